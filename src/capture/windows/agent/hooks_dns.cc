// DnsQuery_A/W/UTF8 (dnsapi.dll): the name, the record type asked for, the addresses answered.
#include "agent.h"

#include <windns.h>

namespace ws::agent {

DnsQueryAFn real_DnsQuery_A = nullptr;
DnsQueryWFn real_DnsQuery_W = nullptr;
DnsQueryAFn real_DnsQuery_UTF8 = nullptr;

namespace {

template <typename Record>
void answers(Call& c, DNS_STATUS st, Record** results) {
  if (st) c.error(ErrDomain::Win, static_cast<int32_t>(st));  // returns its status
  if (st || !results) return;
  RawAddrList a;
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
  Call c(f);
  DNS_STATUS st = real_fn(name, type, options, extra, results, reserved);
  c.done(st, false);
  if constexpr (sizeof(Name) == 1) c.str(FieldId::host, name);
  else c.wstr(FieldId::host, name);
  c.u64(FieldId::qtype, type);
  answers(c, st, results);
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
