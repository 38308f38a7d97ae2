/* hostile ROUNDS: a traced program that attacks wstrace's shared rings while it makes socket
 * calls. It maps the region named in WSTRACE_SHM (as its agent does) and, ROUNDS times, writes
 * impossible values into it: the header's geometry (ring size, slot count, data offset), its own
 * ring's head and tail, record lengths, slot states, pids and drop counters, each followed by
 * a few socket calls, once the collector has read its ring a first time. The collector must
 * survive and keep the trace readable. Prints
 * "hostile done" at the end. The offsets are those of docs/trace-format.md ("The shared
 * rings"); the slots are found from the header's data offset, as they were laid out. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

enum { kSlotSize = 256, kState = 0, kPid = 4, kTid = 8, kHead = 64, kTail = 128, kDropped = 192 };
/* The header's geometry (region version 3). */
enum { kSlotCount = 144, kRingBytes = 152, kDataOffset = 160 };

static volatile uint32_t* u32_at(uint8_t* base, uint64_t off) {
  return (volatile uint32_t*)(base + off);
}
static volatile uint64_t* u64_at(uint8_t* base, uint64_t off) {
  return (volatile uint64_t*)(base + off);
}

static void calls(int sv[2], int n) {
  char buf[64] = "hostile";
  for (int i = 0; i < n; ++i) {
    if (send(sv[0], buf, sizeof buf, 0) != (ssize_t)sizeof buf) exit(3);
    if (recv(sv[1], buf, sizeof buf, MSG_WAITALL) != (ssize_t)sizeof buf) exit(3);
  }
}

int main(int argc, char** argv) {
  int rounds = argc > 1 ? atoi(argv[1]) : 50;
  int sv[2];
  if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0) return 1;
  calls(sv, 5); /* this thread's ring is claimed now */
  const char* name = getenv("WSTRACE_SHM");
  if (!name) {
    fprintf(stderr, "hostile: not traced (no WSTRACE_SHM)\n");
    return 1;
  }
  char path[300];
  snprintf(path, sizeof path, "/dev/shm/%s", name[0] == '/' ? name + 1 : name);
  int fd = open(path, O_RDWR);
  struct stat st;
  if (fd < 0 || fstat(fd, &st) != 0) {
    perror(path);
    return 1;
  }
  uint8_t* r = mmap(NULL, (size_t)st.st_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (r == MAP_FAILED) return 1;
  const uint32_t slots = *u32_at(r, kSlotCount);
  const uint64_t ring_bytes = *u64_at(r, kRingBytes), data_offset = *u64_at(r, kDataOffset);
  uint8_t* slot0 = r + data_offset - (uint64_t)slots * kSlotSize;
  const uint32_t me = (uint32_t)getpid(), tid = (uint32_t)syscall(SYS_gettid);
  uint32_t mine = 0;
  for (uint32_t i = 0; i < slots; ++i)
    if (*u32_at(slot0, i * kSlotSize + kPid) == me && *u32_at(slot0, i * kSlotSize + kTid) == tid)
      mine = i;
  uint8_t* s = slot0 + (uint64_t)mine * kSlotSize;
  uint8_t* data = r + data_offset + ring_bytes * mine;
  /* The collector reads this ring once first (it then knows whose it is): wait, at most 10 s,
   * until it has consumed what the calls above queued. */
  const uint64_t queued = *u64_at(s, kHead);
  for (int i = 0; i < 10000 && *u64_at(s, kTail) < queued; ++i) usleep(1000);
  for (int round = 0; round < rounds; ++round) {
    /* The geometry: a reader that believes it reads or writes far outside the region. */
    *u64_at(r, kRingBytes) = (uint64_t)1 << 40;
    *u32_at(r, kSlotCount) = 0x7fffffff;
    *u64_at(r, kDataOffset) = (uint64_t)1 << 44;
    calls(sv, 2);
    /* A record whose length is absurd, then a head far past the tail, then going backwards. */
    uint64_t head = *u64_at(s, kHead);
    uint32_t huge = 0xfffffff0u;
    memcpy(data + (head & (ring_bytes - 1)), &huge, 4);
    *u64_at(s, kHead) = head + 8;
    calls(sv, 2);
    *u64_at(s, kHead) = *u64_at(s, kTail) + ((uint64_t)1 << 50);
    calls(sv, 2);
    *u64_at(s, kHead) = 0;
    *u64_at(s, kTail) = (uint64_t)-8;
    /* Every other slot: strange states, pids and drop counters going backwards. */
    for (uint32_t i = 0; i < slots; ++i) {
      uint8_t* o = slot0 + (uint64_t)i * kSlotSize;
      if (i % 3 == (uint32_t)round % 3) *u32_at(o, kState) = 7 + (uint32_t)round;
      if (i % 5 == 0) *u32_at(o, kPid) = 0;
      *u64_at(o, kDropped) = (uint64_t)(rounds - round);
    }
    calls(sv, 2);
  }
  close(sv[0]);
  close(sv[1]);
  printf("hostile done\n");
  return 0;
}
