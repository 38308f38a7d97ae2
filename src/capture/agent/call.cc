#include "call.h"

#include <cstring>
#include <cwchar>

namespace ws::agent {
namespace {
const uint8_t kZeros[8] = {};
}

uint32_t snaplen() { return region() ? region()->snaplen : 0; }

void RawAddrList::add(const void* sa, size_t len) {
  if (!sa || count == kMax || len > kMaxAddr) return;
  const auto l = static_cast<uint16_t>(len);
  memcpy(buf + size, &l, 2);
  memcpy(buf + size + 2, sa, len);
  size += 2 + len;
  ++count;
}

// Calls may nest (a signal handler, a library making socket calls inside a lookup): each Call
// keeps its record on its own stack and only touches the ring in its destructor.
Call::Call(FuncId f) : active_(recording()) {
  if (!active_) return;
  head_.func = static_cast<uint8_t>(f);
  head_.ts = now_ns();
}

void Call::done(int64_t result, bool failed) {
  error_ = last_error();
  if (!active_) return;
  head_.dur = static_cast<uint64_t>(now_ns() - head_.ts);
  head_.result = result;
  if (failed) error(last_error_domain(), error_);
}

void Call::cancel() {
  if (!active_) return;
  active_ = false;
  set_last_error(error_);
}

void Call::error(ErrDomain d, int32_t v) {
  head_.err = v;
  head_.err_domain = static_cast<uint8_t>(v ? d : ErrDomain::None);
}

void Call::add(const void* p, size_t n) {
  if (nparts_ < kMaxParts) parts_[nparts_++] = Part{p, n};
}

void Call::pad(uint32_t size) {
  if (raw_pad(size) != size) add(kZeros, raw_pad(size) - size);
}

void Call::arg(FieldId f, RawKind kind, uint32_t size) {
  RawArg& a = args_[nargs_++];
  a.field = static_cast<uint8_t>(f);
  a.kind = kind;
  a.pad = 0;
  a.size = size;
  add(&a, sizeof a);
}

void Call::u64(FieldId f, uint64_t v) {
  if (!active_ || nargs_ >= kMaxArgs || nparts_ + 2 > kMaxParts) return;
  nums_[nnums_] = v;
  arg(f, kRawU64, 8);
  add(&nums_[nnums_++], 8);
}

void Call::i64(FieldId f, int64_t v) {
  if (!active_ || nargs_ >= kMaxArgs) return;
  u64(f, static_cast<uint64_t>(v));
  args_[nargs_ - 1].kind = kRawI64;
}

void Call::platform_const(FieldId f, int64_t v) {
  if (!active_ || nargs_ >= kMaxArgs) return;
  u64(f, static_cast<uint64_t>(v));
  args_[nargs_ - 1].kind = kRawPlatformConst;
}

void Call::sockopt(int64_t level, int64_t name) {
  if (!active_ || nargs_ >= kMaxArgs || nnums_ + 2 > kMaxArgs || nparts_ + 2 > kMaxParts) return;
  // Two numbers under one argument: level, then name.
  nums_[nnums_] = static_cast<uint64_t>(level);
  nums_[nnums_ + 1] = static_cast<uint64_t>(name);
  arg(FieldId::optname, kRawSockopt, 16);
  add(&nums_[nnums_], 16);
  nnums_ += 2;
}

bool Call::room_for_arg() const {
  return active_ && nargs_ < kMaxArgs && nparts_ + 3 <= kMaxParts;
}

void Call::keep(FieldId f, RawKind kind, const void* kept, size_t size) {
  if (!room_for_arg() || !kept) return;
  arg(f, kind, static_cast<uint32_t>(size));
  add(kept, size);
  pad(static_cast<uint32_t>(size));
}

void Call::blob(FieldId f, RawKind kind, const void* data, size_t size) {
  if (room_for_arg()) keep(f, kind, copy(data, size, Mem::Proven), size);
}

const void* Call::copy(const void* p, size_t n, Mem m) {
  if (!p || n > kCopyBytes - ncopies_) return nullptr;
  uint8_t* dst = copies_ + ncopies_;
  if (m == Mem::Proven) memcpy(dst, p, n);
  else if (safe_read(dst, p, n) != n) return nullptr;
  ncopies_ += (n + 7) & ~size_t{7};
  if (ncopies_ > kCopyBytes) ncopies_ = kCopyBytes;
  return dst;
}

const void* Call::copy_string(const void* s, size_t unit, size_t& len) {
  // Read in pieces that stay within one 4 KiB page (pages are at least that big), so that a
  // string ending just before unreadable memory is still read whole.
  constexpr uintptr_t kPage = 4096;
  size_t room = kCopyBytes - ncopies_;
  if (room > kMaxString) room = kMaxString;
  room -= room % unit;
  if (!room) return nullptr;
  uint8_t* dst = copies_ + ncopies_;
  auto from = reinterpret_cast<uintptr_t>(s);
  size_t got = 0;
  while (got < room) {
    size_t piece = static_cast<size_t>(kPage - (from + got) % kPage);
    if (piece > room - got) piece = room - got;
    if (safe_read(dst + got, reinterpret_cast<const void*>(from + got), piece) != piece) break;
    for (size_t end = got - got % unit; end + unit <= got + piece; end += unit) {
      bool zero = true;
      for (size_t b = 0; b < unit; ++b) zero = zero && dst[end + b] == 0;
      if (!zero) continue;
      len = end;
      ncopies_ += (end + 7) & ~size_t{7};
      return dst;
    }
    got += piece;
  }
  if (got < room) return nullptr;  // unreadable before its end
  len = room - room % unit;        // longer than kept: cut
  ncopies_ += (len + 7) & ~size_t{7};
  if (ncopies_ > kCopyBytes) ncopies_ = kCopyBytes;
  return dst;
}

void Call::sockaddr(FieldId f, const void* sa, size_t len, Mem m) {
  if (!active_ || !sa || len < 2) return;
  if (len > 128) len = 128;
  if (room_for_arg()) keep(f, kRawSockaddr, copy(sa, len, m), len);
}

void Call::string(FieldId f, RawKind kind, const void* s, size_t unit, Mem m) {
  if (!room_for_arg() || !s) return;
  size_t len = 0;
  const void* p = nullptr;
  if (m == Mem::Proven) {
    if (unit == 1) len = strlen(static_cast<const char*>(s));
    else len = wcslen(static_cast<const wchar_t*>(s)) * sizeof(wchar_t);
    if (len > kMaxString) len = kMaxString - kMaxString % unit;
    p = copy(s, len, Mem::Proven);
  } else {
    p = copy_string(s, unit, len);
  }
  keep(f, kind, p, len);
}

void Call::str(FieldId f, const char* s, Mem m) { string(f, kRawString, s, 1, m); }

void Call::wstr(FieldId f, const wchar_t* s, Mem m) {
  string(f, kRawWString, s, sizeof(wchar_t), m);
}

void Call::payload(const void* buf, int64_t total) {
  if (!buf || total <= 0) return;
  Part one{buf, static_cast<size_t>(total)};
  payload_parts(&one, 1, total);
}

bool Call::room_for_payload() const {
  return active_ && nargs_ < kMaxArgs && nnums_ < kMaxArgs && nparts_ + 4 <= kMaxParts;
}

uint64_t Call::payload_keep(int64_t total) const {
  const uint64_t limit = geometry().ring_bytes / 4;
  uint64_t want = static_cast<uint64_t>(total);
  if (want > snaplen()) want = snaplen();
  if (want > limit) want = limit;
  return want;
}

void Call::payload_parts(const Part* bufs, size_t n, int64_t total) {
  if (total <= 0 || !room_for_payload()) return;
  const uint64_t want = payload_keep(total);
  nums_[nnums_] = static_cast<uint64_t>(total);
  RawArg& a = args_[nargs_];
  arg(FieldId::payload, kRawBytes, 0);
  add(&nums_[nnums_++], 8);
  uint64_t kept = 0;
  for (size_t i = 0; i < n && i < 16 && kept < want && nparts_ + 2 < kMaxParts; ++i) {
    uint64_t take = bufs[i].size < want - kept ? bufs[i].size : want - kept;
    if (take) add(bufs[i].data, static_cast<size_t>(take));
    kept += take;
  }
  a.size = static_cast<uint32_t>(8 + kept);
  pad(a.size);
}

void Call::payload_file(ReadAt read_at, int fd, int64_t offset, int64_t total) {
  if (!active_ || !read_at || total <= 0) return;
  file_ = FilePayload{read_at, fd, offset, total};
}

void Call::file_payload(RegionHeader* r, uint32_t slot) {
  if (!room_for_payload()) return;
  const uint64_t want = payload_keep(file_.total);
  // The payload's bytes follow the length word, the head, every part noted and the payload's
  // own argument header and total.
  size_t at = 4 + sizeof head_ + sizeof(RawArg) + 8;
  for (size_t i = 0; i < nparts_; ++i) at += parts_[i].size;
  const size_t len = at - 8 + raw_pad(static_cast<uint32_t>(8 + want));
  Span into[2];
  const size_t n =
      want ? ring_span(r, geometry(), slot, len, at, static_cast<size_t>(want), into) : 0;
  size_t got = n ? file_.read_at(file_.fd, file_.offset, into, n) : 0;
  if (got > want) got = static_cast<size_t>(want);
  nums_[nnums_] = static_cast<uint64_t>(file_.total);
  arg(FieldId::payload, kRawBytes, static_cast<uint32_t>(8 + got));
  add(&nums_[nnums_++], 8);
  if (got) add(nullptr, got);  // already in the ring
  pad(static_cast<uint32_t>(8 + got));
}

Call::~Call() {
  if (!active_) return;
  RegionHeader* r = region();
  const bool nested = is_pushing();
  int32_t slot = nested ? owned_slot() : claim_slot();
  if (slot < 0) {
    count_no_ring_record();
  } else if (nested) {
    // A signal handler interrupted this thread's own write into its ring: the ring is
    // mid-write, so this record can only be counted.
    slots_of(r)[slot].dropped.fetch_add(1, std::memory_order_relaxed);
  } else {
    set_pushing(true);  // (also while a file payload is read into the ring: see ring_span)
    if (file_.read_at) file_payload(r, static_cast<uint32_t>(slot));
    head_.tid = tid_ ? tid_ : thread_id();
    head_.nargs = static_cast<uint8_t>(nargs_);
    Part all[kMaxParts + 1];
    all[0] = Part{&head_, sizeof head_};
    memcpy(all + 1, parts_, nparts_ * sizeof(Part));
    ring_push(r, geometry(), static_cast<uint32_t>(slot), all, nparts_ + 1);
    set_pushing(false);
  }
  set_last_error(error_);
}

}  // namespace ws::agent
