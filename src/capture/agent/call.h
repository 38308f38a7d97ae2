// The part of every agent that does not depend on the platform: one traced call, gathered on
// the caller's stack and queued into the thread's ring in one piece. No allocation, no lock, no
// blocking; the platform's last error (errno, GetLastError()) is left as the real call set it.
#pragma once

#include <cstddef>
#include <cstdint>

#include "event.h"
#include "raw_record.h"
#include "ring.h"

namespace ws::agent {

using namespace ws::capture;  // the ring and raw record types

// ---- Provided by each platform's agent ----------------------------------------------------
RegionHeader* region();   // the shared region, or nullptr when this process does not record
const RingGeometry& geometry();  // its shape, as read once when it was mapped
void count_no_ring_record();     // counts a record lost because every ring was taken
bool recording();         // this process records
// This thread's ring, claimed on first use; -1 when every ring is taken.
int32_t claim_slot();
// The slot this thread already owns (-1: none), and the flag set while it writes its ring.
int32_t owned_slot();
bool is_pushing();
void set_pushing(bool on);
uint32_t thread_id();
int64_t now_ns();
int last_error();                   // errno / GetLastError()
void set_last_error(int e);
ErrDomain last_error_domain();      // Errno / Win
// Copies up to `n` bytes of this process's memory at `src` into `dst` without ever faulting
// (Linux: process_vm_readv on itself; Windows: ReadProcessMemory). Returns the bytes copied:
// `n`, or 0 when any of them cannot be read or the system refuses the safe read (a seccomp
// filter, say). Leaves the platform's last error as it was.
size_t safe_read(void* dst, const void* src, size_t n);
// ---------------------------------------------------------------------------------------------

uint32_t snaplen();

// Reads a `T` of program memory with safe_read: false (and `out` untouched) when unreadable.
template <typename T>
bool read_safely(T& out, const void* src) {
  T v;
  if (!src || safe_read(&v, src, sizeof v) != sizeof v) return false;
  out = v;
  return true;
}

// Where argument memory comes from. `Proven`: the successful real call itself read or wrote it
// (or it is the agent's or the system library's own), so it is readable and copied directly.
// `Unproven`: anything else (a failed call's arguments, pointers the call may not have needed):
// copied with safe_read, and left out when unreadable.
enum class Mem : uint8_t { Unproven, Proven };

// Addresses a lookup returned, gathered in the raw list form (u16 length + sockaddr bytes each).
// At most kMax are kept.
struct RawAddrList {
  static constexpr size_t kMax = 32;
  static constexpr size_t kMaxAddr = 28;  // sockaddr_in6, the largest kept (same on both)
  uint8_t buf[kMax * (2 + kMaxAddr)];
  size_t size = 0, count = 0;
  void add(const void* sa, size_t len);
};

// One traced call: the entry time is taken when constructed; done() notes the result and the
// platform's last error; the destructor queues the record (when there is a ring for it) and
// puts the last error back as the real call left it.
// Everything noted is copied into the Call when noted (addresses, strings, lists), except the
// payload: a hook's own buffers may end before the Call does, whatever order they are declared
// in. The payload is read when the Call ends, from the program's buffers, which outlive the
// hook.
class Call {
 public:
  explicit Call(FuncId f);
  ~Call();
  Call(const Call&) = delete;
  Call& operator=(const Call&) = delete;

  // Notes the result; on failure the platform's last error becomes the call's error.
  void done(int64_t result, bool failed);
  void done_errno(int64_t result) { done(result, result < 0); }
  // Overrides the error (getaddrinfo's EAI_*, h_errno, a Winsock call's returned code).
  void error(ErrDomain d, int32_t v);
  int saved_error() const { return error_; }
  // Records the event under thread `tid` rather than the calling thread (0: the caller).
  void on_thread(uint32_t tid) { tid_ = tid; }
  bool active() const { return active_; }
  // Records nothing after all (the call turned out not to concern a socket), and puts the last
  // error back now: call it last, just before returning.
  void cancel();

  void u64(FieldId f, uint64_t v);
  void i64(FieldId f, int64_t v);
  void platform_const(FieldId f, int64_t v);
  void sockopt(int64_t level, int64_t name);
  // The platform's sockaddr bytes (at most 128 are kept), copied now.
  void sockaddr(FieldId f, const void* sa, size_t len, Mem m = Mem::Unproven);
  // A string, copied now up to kMaxString bytes (a longer one is cut there).
  static constexpr size_t kMaxString = 512;
  void str(FieldId f, const char* s, Mem m = Mem::Unproven);
  void wstr(FieldId f, const wchar_t* s, Mem m = Mem::Unproven);  // UTF-16 on Windows: its bytes
  // Payload: `total` bytes moved, kept up to the snap length from `buf`, or from the buffers
  // of a scatter/gather call (at most 16 of them). The buffers are those the successful call
  // moved the bytes through (the program's, never the hook's): they are read directly
  // (Mem::Proven), when the Call ends. The array of parts itself is copied now.
  void payload(const void* buf, int64_t total);
  void payload_parts(const Part* bufs, size_t n, int64_t total);
  // A payload that lives in a file, not in memory (a zero-copy send): `total` bytes moved, the
  // first of them, up to the snap length, read by `read_at` from `fd` at `offset` when the Call
  // ends, straight into the ring (so the hook needs no buffer of that size). `read_at` fills the
  // spans in order and returns the bytes it read; those it could not read are counted in
  // `total` and not kept.
  using ReadAt = size_t (*)(int fd, int64_t offset, const Span* into, size_t n);
  void payload_file(ReadAt read_at, int fd, int64_t offset, int64_t total);
  void addr_list(FieldId f, const RawAddrList& list) { blob(f, kRawAddrList, list.buf, list.size); }
  // A blob the caller built in its own memory (address and poll lists), copied now.
  void blob(FieldId f, RawKind kind, const void* data, size_t size);

  // Room for the copies of one call: the most any hook notes is a lookup's host, service and
  // canonical name (kMaxString each) with its address list. What does not fit is left out.
  static constexpr size_t kCopyBytes = 3 * kMaxString + sizeof(RawAddrList::buf) + 64;

 private:
  void arg(FieldId f, RawKind kind, uint32_t size);
  bool room_for_arg() const;  // active, and room for one more argument's header and bytes
  // Adds an argument whose `size` bytes are already in copies_ (nothing when `kept` is null).
  void keep(FieldId f, RawKind kind, const void* kept, size_t size);
  void add(const void* p, size_t n);
  void pad(uint32_t size);
  // A copy of `n` bytes at `p` in copies_ (with safe_read unless `m` is Proven): nullptr when
  // unreadable or out of room.
  const void* copy(const void* p, size_t n, Mem m = Mem::Unproven);
  // A safe copy of the string at `s` (units of `unit` bytes, up to its terminating zero or
  // kMaxString bytes) in copies_; its length in bytes in `len`. nullptr when unreadable.
  const void* copy_string(const void* s, size_t unit, size_t& len);
  void string(FieldId f, RawKind kind, const void* s, size_t unit, Mem m);
  bool room_for_payload() const;
  // The payload bytes to keep of `total`: the snap length and a quarter of a ring at most.
  uint64_t payload_keep(int64_t total) const;
  // Adds payload_file's argument, its bytes read into `slot`'s ring where the record will put
  // them.
  void file_payload(RegionHeader* r, uint32_t slot);

  static constexpr size_t kMaxParts = 64;
  static constexpr size_t kMaxArgs = 16;
  RawHead head_{};
  RawArg args_[kMaxArgs];
  uint64_t nums_[kMaxArgs + 1];
  Part parts_[kMaxParts];
  size_t nparts_ = 0;
  size_t nargs_ = 0;   // RawArgs written
  size_t nnums_ = 0;   // nums_ used
  alignas(8) uint8_t copies_[kCopyBytes];  // what was noted, copied
  size_t ncopies_ = 0;
  struct FilePayload {
    ReadAt read_at = nullptr;
    int fd = -1;
    int64_t offset = 0, total = 0;
  } file_;
  int error_ = 0;
  uint32_t tid_ = 0;
  bool active_;
};

}  // namespace ws::agent
