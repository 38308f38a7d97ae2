// Hooks for zero-copy data: sendfile, splice and copy_file_range. The kernel moves the bytes
// between descriptors without passing them through the program's memory, so when a socket is
// one end the call is recorded as a send (or, for a splice out of a socket, a receive) of the
// bytes moved. A send's payload is read back from its source file with pread at the offset the
// call used, straight into the ring (Call::payload_file); a pipe's bytes cannot be read without
// taking them from the pipe, so a splice records none. No socket at either end: the real call
// and nothing else.
#include <fcntl.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include "agent.h"

using namespace ws;
using namespace ws::agent;

namespace {

// Where a send will read its source `in`: the offset the program passes (read before the call
// changes it) or, without one, the file's position. -1 when `in` is not a regular file or the
// offset cannot be read (the call then fails with EFAULT). errno is left as it was.
int64_t source_offset(int in, const void* offset) {
  const int saved = errno;
  int64_t at = -1;
  struct stat st {};
  if (fstat(in, &st) == 0 && S_ISREG(st.st_mode)) {
    int64_t v = 0;
    if (!offset) at = lseek(in, 0, SEEK_CUR);
    else if (read_safely(v, offset)) at = v;
  }
  errno = saved;
  return at < 0 ? -1 : at;
}

// Call::ReadAt for a file: pread into the ring's spans, as many bytes as the file still has.
size_t pread_into(int fd, int64_t offset, const Span* into, size_t n) {
  iovec iov[2];
  size_t want = 0;
  for (size_t i = 0; i < n && i < 2; ++i) {
    iov[i] = iovec{into[i].data, into[i].size};
    want += into[i].size;
  }
  // One read, and another for a short one (the Call puts errno back when it ends).
  size_t got = 0;
  for (int tries = 0; tries < 2 && got < want; ++tries) {
    iovec rest[2];
    size_t k = 0, skip = got;
    for (size_t i = 0; i < n && i < 2; ++i) {
      if (skip >= iov[i].iov_len) {
        skip -= iov[i].iov_len;
        continue;
      }
      rest[k++] = iovec{static_cast<char*>(iov[i].iov_base) + skip, iov[i].iov_len - skip};
      skip = 0;
    }
    const ssize_t r = preadv(fd, rest, static_cast<int>(k), static_cast<off_t>(offset + got));
    if (r <= 0) break;
    got += static_cast<size_t>(r);
  }
  return got;
}

// A zero-copy send to socket `out` of `len` asked bytes from `in`, read by the call at `from`
// (-1: not readable afterwards).
void zero_copy_send(Call& c, int out, size_t len, int64_t r, int in, int64_t from) {
  c.u64(FieldId::sock, static_cast<uint64_t>(out));
  c.u64(FieldId::len, len);
  if (r > 0 && from >= 0) c.payload_file(pread_into, in, from, r);
}

template <typename Off>
ssize_t traced_sendfile(ssize_t (*real_fn)(int, int, Off*, size_t), int out, int in, Off* offset,
                        size_t count) {
  if (!is_socket(out)) return real_fn(out, in, offset, count);
  TcpWatch w(out);
  Call c(FuncId::sendfile);
  const int64_t from = c.active() ? source_offset(in, offset) : -1;
  ssize_t r = real_fn(out, in, offset, count);
  c.done_errno(r);
  zero_copy_send(c, out, count, r, in, from);
  return r;
}

}  // namespace

WS_EXPORT ssize_t sendfile(int out, int in, off_t* offset, size_t count) {
  return traced_sendfile(REAL(sendfile), out, in, offset, count);
}

WS_EXPORT ssize_t sendfile64(int out, int in, off64_t* offset, size_t count) {
  return traced_sendfile(REAL(sendfile64), out, in, offset, count);
}

// One end of a splice is a pipe. Into a socket: a send whose bytes came from the pipe (not
// kept). Out of a socket: a receive whose bytes went into the pipe, where reading them would
// take them from the program (not kept either).
WS_EXPORT ssize_t splice(int in, loff_t* off_in, int out, loff_t* off_out, size_t len,
                         unsigned flags) {
  const bool to_socket = is_socket(out);
  if (!to_socket && !is_socket(in)) return REAL(splice)(in, off_in, out, off_out, len, flags);
  TcpWatch w(to_socket ? out : in);
  Call c(to_socket ? FuncId::splice : FuncId::splice_recv);
  ssize_t r = REAL(splice)(in, off_in, out, off_out, len, flags);
  c.done_errno(r);
  c.u64(FieldId::sock, static_cast<uint64_t>(to_socket ? out : in));
  c.u64(FieldId::len, len);
  return r;
}

// The kernel copies only between regular files (a socket as `out` fails with EINVAL), so a call
// with a socket is recorded as the failed send it is.
WS_EXPORT ssize_t copy_file_range(int in, loff_t* off_in, int out, loff_t* off_out, size_t len,
                                  unsigned flags) {
  if (!is_socket(out)) return REAL(copy_file_range)(in, off_in, out, off_out, len, flags);
  Call c(FuncId::copy_file_range);
  const int64_t from = c.active() ? source_offset(in, off_in) : -1;
  ssize_t r = REAL(copy_file_range)(in, off_in, out, off_out, len, flags);
  c.done_errno(r);
  zero_copy_send(c, out, len, r, in, from);
  return r;
}
