// Name lookups: getaddrinfo and its wide and Ex forms (GetAddrInfoExW also asynchronous, its
// result recorded when it arrives), the reverse lookups, gethostby*, and DnsQuery_A/W/UTF8 of
// dnsapi.dll (the name, the record type asked for, the addresses answered).
#include "agent.h"

#include <windns.h>

namespace ws::agent {

namespace {

template <typename AI>
// The hints and addresses of a lookup.
void lookup_results(Call& c, int r, const AI* hints_at, AI* const* res) {
  AI h;  // the program's hints, read safely: a refused pointer is WSAEFAULT, not a crash
  const AI* hints = read_safely(h, hints_at) ? &h : nullptr;
  if (hints) {
    c.platform_const(FieldId::hint_family, hints->ai_family);
    if (hints->ai_socktype) c.platform_const(FieldId::hint_type, hints->ai_socktype);
    if (hints->ai_flags) c.platform_const(FieldId::hint_flags, hints->ai_flags);
  }
  if (r != 0) {
    c.error(ErrDomain::Win, r);  // returns its error code
    return;
  }
  // (mingw declares ADDRINFOEXW::ai_next with another spelling of the struct: cast.)
  RawAddrList list;
  for (const AI* ai = res ? *res : nullptr; ai; ai = reinterpret_cast<const AI*>(ai->ai_next)) {
    if (hints && hints->ai_socktype == 0 && ai->ai_socktype != SOCK_STREAM && ai != *res) continue;
    list.add(ai->ai_addr, ai->ai_addrlen);
  }
  c.addr_list(FieldId::addrs, list);
}

// A string argument of the A (char) or W (wchar_t) form of a function.
template <typename Ch>
void text(Call& c, FieldId id, const Ch* s, Mem m = Mem::Unproven) {
  if constexpr (sizeof(Ch) == 1) c.str(id, s, m);
  else c.wstr(id, s, m);
}

// getaddrinfo and GetAddrInfoW alike.
template <typename Fn, typename Ch, typename AI>
INT traced_getaddrinfo(FuncId f, Fn real_fn, const Ch* node, const Ch* service, const AI* hints,
                       AI** res) {
  RawAddrList list;
  Call c(f);
  INT r = real_fn(node, service, hints, res);
  c.done(r, false);
  text(c, FieldId::host, node);
  text(c, FieldId::service, service);
  lookup_results(c, r, hints, res);
  if (r == 0 && res && *res && (*res)->ai_canonname)
    text(c, FieldId::canon, (*res)->ai_canonname, Mem::Proven);  // Winsock's own
  return r;
}

// getnameinfo and GetNameInfoW alike.
template <typename Fn, typename Ch>
INT traced_nameinfo(FuncId f, Fn real_fn, const SOCKADDR* sa, socklen_t salen, Ch* host,
                    DWORD hostlen, Ch* serv, DWORD servlen, INT flags) {
  Call c(f);
  INT r = real_fn(sa, salen, host, hostlen, serv, servlen, flags);
  c.done(r, false);
  if (r) c.error(ErrDomain::Win, r);
  c.sockaddr(FieldId::addr, sa, static_cast<size_t>(salen));
  if (r == 0 && host && hostlen) text<Ch>(c, FieldId::host, host, Mem::Proven);  // written
  if (r == 0 && serv && servlen) text<Ch>(c, FieldId::service, serv, Mem::Proven);
  return r;
}

}  // namespace

INT WSAAPI hook_getaddrinfo(PCSTR node, PCSTR service, const ADDRINFOA* hints, PADDRINFOA* res) {
  return traced_getaddrinfo(FuncId::getaddrinfo, g_real.getaddrinfo, node, service, hints, res);
}

INT WSAAPI hook_GetAddrInfoW(PCWSTR node, PCWSTR service, const ADDRINFOW* hints,
                             PADDRINFOW* res) {
  return traced_getaddrinfo(FuncId::GetAddrInfoW, g_real.GetAddrInfoW, node, service, hints, res);
}

namespace {

// (mingw declares LPLOOKUPSERVICE_COMPLETION_ROUTINE as a plain pointer.)
using LookupRoutine = void(CALLBACK*)(DWORD err, DWORD bytes, LPWSAOVERLAPPED ov);
std::atomic<LookupRoutine> g_last_lookup_routine{nullptr};

// In place of the program's routine (it runs on a thread of the system's pool): records the
// result, then calls the program's routine.
void CALLBACK lookup_trampoline(DWORD err, DWORD bytes, LPWSAOVERLAPPED ov) {
  PendingOp p;
  Took took = g_pending.take(ov, p, true);
  if (took == Took::kFresh) record_lookup_done(ov, static_cast<int>(err), p);
  auto routine = took != Took::kNone && p.routine ? reinterpret_cast<LookupRoutine>(p.routine)
                     : g_last_lookup_routine.load(std::memory_order_relaxed);
  if (routine) routine(err, bytes, ov);
}

// An asynchronous lookup is noted before the call: its routine may run at once on another thread.
bool note_lookup(LPOVERLAPPED ov, const ADDRINFOEXW* hints, PADDRINFOEXW* res,
                 LPLOOKUPSERVICE_COMPLETION_ROUTINE& routine) {
  if (!ov || !recording()) return false;
  PendingOp op;
  op.kind = PendingOp::kLookup;
  op.results = res;
  ADDRINFOEXW h;  // (read safely: refused pointers are the call's WSAEFAULT, not a crash)
  if (read_safely(h, hints)) {
    op.has_hints = true;
    op.hint_family = h.ai_family;
    op.hint_type = h.ai_socktype;
    op.hint_flags = h.ai_flags;
  }
  if (routine) op.routine = reinterpret_cast<void*>(routine);
  else if (!read_safely(op.event, &ov->hEvent)) return false;
  if (!g_pending.begin(ov, op)) return false;
  if (routine) {
    g_last_lookup_routine.store(reinterpret_cast<LookupRoutine>(routine),
                                std::memory_order_relaxed);
    routine = reinterpret_cast<LPLOOKUPSERVICE_COMPLETION_ROUTINE>(lookup_trampoline);
  }
  return true;
}

}  // namespace

// Started asynchronously (an OVERLAPPED), it is recorded when started, with WSA_IO_PENDING and
// `op`; its result is a second GetAddrInfoExW event with the same `op`, recorded when wstrace's
// routine runs, a wait on the OVERLAPPED's event returns, or GetAddrInfoExOverlappedResult says.
int WSAAPI hook_GetAddrInfoExW(PCWSTR node, PCWSTR service, DWORD ns, LPGUID id,
                               const ADDRINFOEXW* hints, PADDRINFOEXW* res, PTIMEVAL tmo,
                               LPOVERLAPPED ov, LPLOOKUPSERVICE_COMPLETION_ROUTINE routine,
                               LPHANDLE handle) {
  LPLOOKUPSERVICE_COMPLETION_ROUTINE pass = routine;
  const bool noted = note_lookup(ov, hints, res, pass);
  Noticed found{};
  bool noticed = false;
  int r;
  {
    Call c(FuncId::GetAddrInfoExW);
    r = g_real.GetAddrInfoExW(node, service, ns, id, hints, res, tmo, ov, pass, handle);
    if (noted) noticed = g_pending.settle(ov, r == WSA_IO_PENDING, found);
    c.done(r, false);
    c.wstr(FieldId::host, node);
    c.wstr(FieldId::service, service);
    lookup_results(c, r, hints, r == WSA_IO_PENDING ? nullptr : res);
    if (ov) c.u64(FieldId::op, reinterpret_cast<uintptr_t>(ov));
  }
  if (noticed) {
    const DWORD e = GetLastError();
    record_lookup_done(ov, static_cast<int>(found.status), found.op);
    SetLastError(e);
  }
  return r;
}

void record_lookup_done(LPOVERLAPPED ov, int err, const PendingOp& op) {
  RawAddrList list;
  Call c(FuncId::GetAddrInfoExW);
  c.done(err, false);
  c.u64(FieldId::op, reinterpret_cast<uintptr_t>(ov));
  ADDRINFOEXW hints{};
  hints.ai_family = op.hint_family;
  hints.ai_socktype = op.hint_type;
  hints.ai_flags = op.hint_flags;
  PADDRINFOEXW* res = op.results && PendingTable::readable(op.results, sizeof *op.results)
                          ? op.results : nullptr;
  lookup_results(c, err, op.has_hints ? &hints : nullptr, res);
}

INT WSAAPI hook_GetAddrInfoExOverlappedResult(LPOVERLAPPED ov) {
  INT r = g_real.GetAddrInfoExOverlappedResult(ov);
  if (ov && r != WSAEINPROGRESS && recording()) {
    const DWORD e = GetLastError();
    PendingOp p;
    if (g_pending.take(ov, p, false) == Took::kFresh) record_lookup_done(ov, r, p);
    SetLastError(e);
  }
  return r;
}

void WSAAPI hook_FreeAddrInfoExW(PADDRINFOEXW ai) {
  Call c(FuncId::FreeAddrInfoExW);
  g_real.FreeAddrInfoExW(ai);
  c.done(0, false);
}

INT WSAAPI hook_GetNameInfoW(const SOCKADDR* sa, socklen_t salen, PWCHAR host, DWORD hostlen,
                             PWCHAR serv, DWORD servlen, INT flags) {
  return traced_nameinfo(FuncId::GetNameInfoW, g_real.GetNameInfoW, sa, salen, host, hostlen, serv,
                         servlen, flags);
}

void WSAAPI hook_freeaddrinfo(PADDRINFOA ai) {
  Call c(FuncId::freeaddrinfo);
  g_real.freeaddrinfo(ai);
  c.done(0, false);
}

void WSAAPI hook_FreeAddrInfoW(PADDRINFOW ai) {
  Call c(FuncId::FreeAddrInfoW);
  g_real.FreeAddrInfoW(ai);
  c.done(0, false);
}

namespace {
void hostent_addrs(Call& c, RawAddrList& list, const hostent* h) {
  if (!h || !h->h_addr_list) return;
  for (char** p = h->h_addr_list; *p; ++p) {
    if (h->h_addrtype == AF_INET) {
      sockaddr_in sin{};
      sin.sin_family = AF_INET;
      memcpy(&sin.sin_addr, *p, 4);
      list.add(&sin, sizeof sin);
    }
  }
  c.addr_list(FieldId::addrs, list);
  if (h->h_name) c.str(FieldId::canon, h->h_name, Mem::Proven);  // Winsock's own
}
}  // namespace

hostent* WSAAPI hook_gethostbyname(const char* name) {
  RawAddrList list;
  Call c(FuncId::gethostbyname);
  hostent* h = g_real.gethostbyname(name);
  c.done(h ? 0 : -1, h == nullptr);
  c.str(FieldId::host, name);
  hostent_addrs(c, list, h);
  return h;
}

hostent* WSAAPI hook_gethostbyaddr(const char* addr, int len, int type) {
  Call c(FuncId::gethostbyaddr);
  sockaddr_in sin{};
  hostent* h = g_real.gethostbyaddr(addr, len, type);
  c.done(h ? 0 : -1, h == nullptr);
  if (type == AF_INET && len == 4 && read_safely(sin.sin_addr, addr)) {
    sin.sin_family = AF_INET;
    c.sockaddr(FieldId::addr, &sin, sizeof sin, Mem::Proven);
  }
  if (h && h->h_name) c.str(FieldId::host, h->h_name, Mem::Proven);
  return h;
}

INT WSAAPI hook_getnameinfo(const SOCKADDR* sa, socklen_t salen, PCHAR host, DWORD hostlen,
                            PCHAR serv, DWORD servlen, INT flags) {
  return traced_nameinfo(FuncId::getnameinfo, g_real.getnameinfo, sa, salen, host, hostlen, serv,
                         servlen, flags);
}


DnsQueryAFn real_DnsQuery_A = nullptr;
DnsQueryWFn real_DnsQuery_W = nullptr;
DnsQueryAFn real_DnsQuery_UTF8 = nullptr;

namespace {

template <typename Record>
void answers(Call& c, RawAddrList& a, DNS_STATUS st, Record** results) {
  if (st) c.error(ErrDomain::Win, static_cast<int32_t>(st));  // returns its status
  if (st || !results) return;
  for (const Record* r = *results; r; r = r->pNext) {
    if (r->wType == DNS_TYPE_A) {
      sockaddr_in sin{};
      sin.sin_family = AF_INET;
      sin.sin_addr.s_addr = r->Data.A.IpAddress;
      a.add(&sin, sizeof sin);
    } else if (r->wType == DNS_TYPE_AAAA) {
      sockaddr_in6 sin6{};
      sin6.sin6_family = AF_INET6;
      memcpy(&sin6.sin6_addr, &r->Data.AAAA.Ip6Address, 16);
      a.add(&sin6, sizeof sin6);
    }
  }
  c.addr_list(FieldId::addrs, a);
}

}  // namespace

namespace {

// DnsQuery_A, _UTF8 and _W alike; `Name` is char or wchar_t.
template <typename Fn, typename Name, typename Record>
DNS_STATUS traced_query(FuncId f, Fn real_fn, const Name* name, WORD type, DWORD options,
                        PVOID extra, Record** results, PVOID* reserved) {
  RawAddrList list;
  Call c(f);
  DNS_STATUS st = real_fn(name, type, options, extra, results, reserved);
  c.done(st, false);
  text(c, FieldId::host, name);
  c.u64(FieldId::qtype, type);
  answers(c, list, st, results);
  return st;
}

}  // namespace

DNS_STATUS WINAPI hook_DnsQuery_A(PCSTR name, WORD type, DWORD options, PVOID extra,
                                  DNS_RECORDA** results, PVOID* reserved) {
  return traced_query(FuncId::DnsQuery_A, real_DnsQuery_A, name, type, options, extra, results,
                      reserved);
}

DNS_STATUS WINAPI hook_DnsQuery_UTF8(PCSTR name, WORD type, DWORD options, PVOID extra,
                                     DNS_RECORDA** results, PVOID* reserved) {
  return traced_query(FuncId::DnsQuery_UTF8, real_DnsQuery_UTF8, name, type, options, extra,
                      results, reserved);
}

DNS_STATUS WINAPI hook_DnsQuery_W(PCWSTR name, WORD type, DWORD options, PVOID extra,
                                  DNS_RECORDW** results, PVOID* reserved) {
  return traced_query(FuncId::DnsQuery_W, real_DnsQuery_W, name, type, options, extra, results,
                      reserved);
}

}  // namespace ws::agent
