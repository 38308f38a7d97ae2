// TCP statistics (TCP_INFO) read at moments that cost little and tell the story: when a
// connection is set up, at most every `tcp_info_ms` at a send or receive, and before shutdown and
// close. Each reading is a tcp_info record holding the kernel's struct tcp_info as it came; the
// collector decodes it (capture/translate.cc).
#include <netinet/in.h>
#include <netinet/tcp.h>  // IPPROTO_TCP, TCP_INFO and the state numbers
#include <time.h>

#include "agent.h"

namespace ws::agent {
namespace {

constexpr int kTableSize = 1 << 16;
// Per descriptor number: the coarse-clock millisecond from which the next reading at a send or
// receive is due; 0 — never read yet (the first reading is the connected one); kNotTcp — the
// kernel refused TCP_INFO (not TCP), never asked again until the number is reused.
uint32_t g_next[kTableSize];
constexpr uint32_t kNotTcp = UINT32_MAX;

uint32_t now_ms() {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);  // the vDSO's cheapest clock: a send's budget
  return static_cast<uint32_t>(ts.tv_sec * 1000 + ts.tv_nsec / 1'000'000);
}

// A due time that is neither "never read" nor "not TCP" (the clock wraps after 49 days).
uint32_t due(uint32_t at) { return at == 0 || at == kNotTcp ? 1 : at; }

uint32_t interval_ms() {
  const RegionHeader* r = region();
  return r ? __atomic_load_n(&r->tcp_info_ms, __ATOMIC_RELAXED) : 0;
}

enum class Read : uint8_t { NotTcp, NotYet, Recorded };

// Reads and records the statistics of `fd`. A connection still being set up has no "connected"
// reading yet (NotYet).
Read read_and_record(int fd, TcpAt at) {
  // The kernel's struct tcp_info grows with its version (glibc's copy of it stops at 2.6's
  // fields): room for today's, the kernel fills what it has and says how much.
  alignas(8) uint8_t ti[256];
  socklen_t len = sizeof ti;
  const int saved = errno;
  const int r = REAL(getsockopt)(fd, IPPROTO_TCP, TCP_INFO, ti, &len);
  errno = saved;
  if (r != 0 || len == 0) return Read::NotTcp;
  const uint8_t state = ti[0];  // tcpi_state
  if (at == TcpAt::Connected &&
      (state == TCP_SYN_SENT || state == TCP_LISTEN || state == TCP_CLOSE))
    return Read::NotYet;
  Call c(FuncId::tcp_info);
  c.done(0, false);  // a fact, not a call
  c.u64(FieldId::sock, static_cast<uint64_t>(fd));
  c.u64(FieldId::tcp_at, static_cast<uint64_t>(at));  // (before the statistics it qualifies)
  c.blob(FieldId::tcp_state, kRawTcpInfo, ti, len < sizeof ti ? len : sizeof ti);
  return Read::Recorded;
}

void set_next(int fd, uint32_t v) {
  if (fd < kTableSize) __atomic_store_n(&g_next[fd], v, __ATOMIC_RELAXED);
}

}  // namespace

void tcp_stats(int fd, TcpAt at) {
  if (!enabled() || interval_ms() == 0 || fd < 0 || fd >= kTableSize || sandboxed()) return;
  const uint32_t next = __atomic_load_n(&g_next[fd], __ATOMIC_RELAXED);
  // Before shutdown or close: only a connection that was read once set up (a socket that never
  // connected, or a listener, has no figures worth a record).
  if (next == kNotTcp || (next == 0 && at != TcpAt::Connected)) return;
  const Read r = read_and_record(fd, at);
  if (r == Read::NotTcp) set_next(fd, kNotTcp);
  else if (r == Read::Recorded && at == TcpAt::Connected) set_next(fd, due(now_ms() + interval_ms()));
}

void tcp_stats_due(int fd, bool before) {
  if (fd < 0 || fd >= kTableSize || !enabled() || sandboxed()) return;
  const uint32_t every = interval_ms();
  if (every == 0) return;
  const uint32_t next = __atomic_load_n(&g_next[fd], __ATOMIC_RELAXED);
  if (next == kNotTcp) return;
  if (next == 0) {
    // The first send or receive of a connection set up without the program waiting in
    // connect() (non-blocking): its "connected" reading, before the data.
    if (before && is_socket(fd)) tcp_stats(fd, TcpAt::Connected);
    return;
  }
  const uint32_t now = now_ms();
  if (before || every == kTcpInfoEnds || static_cast<int32_t>(now - next) < 0) return;
  set_next(fd, due(now + every));
  if (read_and_record(fd, TcpAt::Interval) == Read::NotTcp) set_next(fd, kNotTcp);
}

void tcp_stats_forget(int fd) {
  if (fd >= 0 && fd < kTableSize) __atomic_store_n(&g_next[fd], 0, __ATOMIC_RELAXED);
}

}  // namespace ws::agent
