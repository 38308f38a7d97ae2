/* Two socket operations through io_uring, by raw system calls (no liburing): a send on one end
 * of a socketpair and a receive on the other. The kernel engine must declare and count them
 * (tests/integration/capture_ebpf_calls.sh). Prints "sent N got N". */
#include <linux/io_uring.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

static int fail(const char* what) {
  perror(what);
  return 1;
}

int main(void) {
  struct io_uring_params p;
  memset(&p, 0, sizeof p);
  int ring = (int)syscall(SYS_io_uring_setup, 4, &p);
  if (ring < 0) return fail("io_uring_setup");
  size_t sq_len = p.sq_off.array + p.sq_entries * sizeof(unsigned);
  size_t cq_len = p.cq_off.cqes + p.cq_entries * sizeof(struct io_uring_cqe);
  char* sq = mmap(0, sq_len, PROT_READ | PROT_WRITE, MAP_SHARED, ring, IORING_OFF_SQ_RING);
  char* cq = mmap(0, cq_len, PROT_READ | PROT_WRITE, MAP_SHARED, ring, IORING_OFF_CQ_RING);
  struct io_uring_sqe* sqes = mmap(0, p.sq_entries * sizeof(struct io_uring_sqe),
                                   PROT_READ | PROT_WRITE, MAP_SHARED, ring, IORING_OFF_SQES);
  if (sq == MAP_FAILED || cq == MAP_FAILED || sqes == MAP_FAILED) return fail("mmap");
  int sv[2];
  if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv)) return fail("socketpair");
  char got[16] = {0};
  memset(sqes, 0, 2 * sizeof *sqes);
  sqes[0].opcode = IORING_OP_SEND;
  sqes[0].fd = sv[0];
  sqes[0].addr = (unsigned long)"hello";
  sqes[0].len = 5;
  sqes[0].flags = IOSQE_IO_LINK;
  sqes[1].opcode = IORING_OP_RECV;
  sqes[1].fd = sv[1];
  sqes[1].addr = (unsigned long)got;
  sqes[1].len = sizeof got;
  sqes[1].user_data = 1;
  unsigned* tail = (unsigned*)(sq + p.sq_off.tail);
  unsigned* array = (unsigned*)(sq + p.sq_off.array);
  unsigned t = *tail;
  array[t & (p.sq_entries - 1)] = 0;
  array[(t + 1) & (p.sq_entries - 1)] = 1;
  __atomic_store_n(tail, t + 2, __ATOMIC_RELEASE);
  if (syscall(SYS_io_uring_enter, ring, 2, 2, IORING_ENTER_GETEVENTS, NULL, 0) != 2)
    return fail("io_uring_enter");
  unsigned* head = (unsigned*)(cq + p.cq_off.head);
  struct io_uring_cqe* cqes = (struct io_uring_cqe*)(cq + p.cq_off.cqes);
  int res[2] = {-1, -1};
  for (unsigned h = *head; h != __atomic_load_n((unsigned*)(cq + p.cq_off.tail), __ATOMIC_ACQUIRE);
       h++) {
    const struct io_uring_cqe* c = &cqes[h & (p.cq_entries - 1)];
    if (c->user_data < 2) res[c->user_data] = c->res;
  }
  printf("sent %d got %d\n", res[0], res[1]);
  return res[0] == 5 && res[1] == 5 ? 0 : 1;
}
