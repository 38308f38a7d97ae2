// DnsQuery_A/W/UTF8 (dnsapi.dll): the name, the record type asked for, the addresses answered.
#include "agent.h"

#include <windns.h>

namespace ws::agent {

DnsQueryAFn real_DnsQuery_A = nullptr;
DnsQueryWFn real_DnsQuery_W = nullptr;
DnsQueryAFn real_DnsQuery_UTF8 = nullptr;

namespace {

// The A and AAAA answers as the raw address list (u16 length + sockaddr each).
struct Answers {
  uint8_t buf[32 * (2 + sizeof(sockaddr_in6))];
  size_t size = 0, count = 0;
  void add(const void* sa, size_t len) {
    if (count == 32) return;
    uint16_t l = static_cast<uint16_t>(len);
    memcpy(buf + size, &l, 2);
    memcpy(buf + size + 2, sa, len);
    size += 2 + len;
    ++count;
  }
};

template <typename Record>
void answers(Call& c, DNS_STATUS st, Record** results) {
  if (st) c.error(ErrDomain::Win, static_cast<int32_t>(st));  // returns its status
  if (st || !results) return;
  Answers a;
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
  c.blob(FieldId::addrs, kRawAddrList, a.buf, a.size);
}

}  // namespace

DNS_STATUS WINAPI hook_DnsQuery_A(PCSTR name, WORD type, DWORD options, PVOID extra,
                                  DNS_RECORDA** results, PVOID* reserved) {
  Call c(FuncId::DnsQuery_A);
  DNS_STATUS st = real_DnsQuery_A(name, type, options, extra, results, reserved);
  c.done(st, false);
  c.str(FieldId::host, name);
  c.u64(FieldId::qtype, type);
  answers(c, st, results);
  return st;
}

DNS_STATUS WINAPI hook_DnsQuery_UTF8(PCSTR name, WORD type, DWORD options, PVOID extra,
                                     DNS_RECORDA** results, PVOID* reserved) {
  Call c(FuncId::DnsQuery_UTF8);
  DNS_STATUS st = real_DnsQuery_UTF8(name, type, options, extra, results, reserved);
  c.done(st, false);
  c.str(FieldId::host, name);
  c.u64(FieldId::qtype, type);
  answers(c, st, results);
  return st;
}

DNS_STATUS WINAPI hook_DnsQuery_W(PCWSTR name, WORD type, DWORD options, PVOID extra,
                                  DNS_RECORDW** results, PVOID* reserved) {
  Call c(FuncId::DnsQuery_W);
  DNS_STATUS st = real_DnsQuery_W(name, type, options, extra, results, reserved);
  c.done(st, false);
  c.wstr(FieldId::host, name);
  c.u64(FieldId::qtype, type);
  answers(c, st, results);
  return st;
}

}  // namespace ws::agent
