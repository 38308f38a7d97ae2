// Hooks for name resolution: getaddrinfo/freeaddrinfo, gethostbyname(_r), gethostbyaddr,
// getnameinfo, res_query/res_search. Every address found is recorded, and how long it took.
#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cstring>

#include "agent.h"

using namespace ws;
using namespace ws::agent;


namespace {

// An address as the resolver hands it out (bare bytes of family `af`) into the list.
void add_raw_ip(RawAddrList& list, int af, const char* bytes) {
  if (af == AF_INET) {
    sockaddr_in sin{};
    sin.sin_family = AF_INET;
    std::memcpy(&sin.sin_addr, bytes, 4);
    list.add(&sin, sizeof sin);
  } else if (af == AF_INET6) {
    sockaddr_in6 sin6{};
    sin6.sin6_family = AF_INET6;
    std::memcpy(&sin6.sin6_addr, bytes, 16);
    list.add(&sin6, sizeof sin6);
  }
}

void add_hostent(RawAddrList& list, const hostent* h) {
  if (!h || !h->h_addr_list) return;
  for (char** p = h->h_addr_list; *p; ++p) add_raw_ip(list, h->h_addrtype, *p);
}

int current_h_errno() { return h_errno; }

}  // namespace

WS_EXPORT int getaddrinfo(const char* node, const char* service, const addrinfo* hints,
                          addrinfo** res) {
  Call c(FuncId::getaddrinfo);
  int r = REAL(getaddrinfo)(node, service, hints, res);
  c.done(r, false);
  if (r != 0) c.error(r == EAI_SYSTEM ? ErrDomain::Errno : ErrDomain::Eai,
                      r == EAI_SYSTEM ? c.saved_error() : r);
  c.str(FieldId::host, node);
  c.str(FieldId::service, service);
  addrinfo h;
  const bool have_hints = read_safely(h, hints);
  if (have_hints) {
    c.platform_const(FieldId::hint_family, h.ai_family);
    if (h.ai_socktype) c.platform_const(FieldId::hint_type, h.ai_socktype);
    if (h.ai_flags) c.platform_const(FieldId::hint_flags, h.ai_flags);
  }
  RawAddrList list;
  if (r == 0 && res) {
    for (const addrinfo* ai = *res; ai; ai = ai->ai_next) {
      // One entry per address: the resolver repeats each for every socket type.
      if (have_hints && h.ai_socktype == 0 && ai->ai_socktype != SOCK_STREAM && ai != *res)
        continue;
      list.add(ai->ai_addr, ai->ai_addrlen);
    }
    c.addr_list(FieldId::addrs, list);
    if (*res && (*res)->ai_canonname) c.str(FieldId::canon, (*res)->ai_canonname, Mem::Proven);
  }
  return r;
}

WS_EXPORT void freeaddrinfo(addrinfo* res) {
  Call c(FuncId::freeaddrinfo);
  REAL(freeaddrinfo)(res);
  c.done(0, false);
}

WS_EXPORT hostent* gethostbyname(const char* name) {
  Call c(FuncId::gethostbyname);
  hostent* h = REAL(gethostbyname)(name);
  c.done(h ? 0 : -1, false);
  if (!h) c.error(ErrDomain::HErrno, current_h_errno());
  c.str(FieldId::host, name);
  RawAddrList list;
  add_hostent(list, h);
  if (h) {
    c.addr_list(FieldId::addrs, list);
    if (h->h_name) c.str(FieldId::canon, h->h_name, Mem::Proven);
  }
  return h;
}

WS_EXPORT int gethostbyname_r(const char* name, hostent* ret, char* buf, size_t buflen,
                              hostent** result, int* h_errnop) {
  Call c(FuncId::gethostbyname_r);
  int r = REAL(gethostbyname_r)(name, ret, buf, buflen, result, h_errnop);
  bool found = r == 0 && result && *result;
  c.done(found ? 0 : -1, false);
  int herr = 0;
  if (r != 0) c.error(ErrDomain::Errno, r);
  else if (!found && read_safely(herr, h_errnop)) c.error(ErrDomain::HErrno, herr);
  c.str(FieldId::host, name);
  RawAddrList list;
  if (found) {
    add_hostent(list, *result);
    c.addr_list(FieldId::addrs, list);
    if ((*result)->h_name) c.str(FieldId::canon, (*result)->h_name, Mem::Proven);
  }
  return r;
}

WS_EXPORT hostent* gethostbyaddr(const void* addr, socklen_t len, int type) {
  Call c(FuncId::gethostbyaddr);
  hostent* h = REAL(gethostbyaddr)(addr, len, type);
  c.done(h ? 0 : -1, false);
  if (!h) c.error(ErrDomain::HErrno, current_h_errno());
  RawAddrList one;
  char ip[16];
  if (((type == AF_INET && len == 4) || (type == AF_INET6 && len == 16)) &&
      safe_read(ip, addr, len) == len)
    add_raw_ip(one, type, ip);
  if (one.count) c.sockaddr(FieldId::addr, one.buf + 2, one.size - 2, Mem::Proven);
  if (h && h->h_name) c.str(FieldId::host, h->h_name, Mem::Proven);
  return h;
}

WS_EXPORT int getnameinfo(const sockaddr* sa, socklen_t salen, char* host, socklen_t hostlen,
                          char* serv, socklen_t servlen, int flags) {
  Call c(FuncId::getnameinfo);
  int r = REAL(getnameinfo)(sa, salen, host, hostlen, serv, servlen, flags);
  c.done(r, false);
  if (r != 0) c.error(r == EAI_SYSTEM ? ErrDomain::Errno : ErrDomain::Eai,
                      r == EAI_SYSTEM ? c.saved_error() : r);
  c.sockaddr(FieldId::addr, sa, salen);
  if (r == 0 && host && hostlen) c.str(FieldId::host, host, Mem::Proven);  // libc wrote them
  if (r == 0 && serv && servlen) c.str(FieldId::service, serv, Mem::Proven);
  return r;
}

namespace {

int traced_res(FuncId f, int (*real_fn)(const char*, int, int, unsigned char*, int),
               const char* dname, int cls, int type, unsigned char* answer, int anslen) {
  Call c(f);
  int r = real_fn(dname, cls, type, answer, anslen);
  c.done(r, false);
  if (r < 0) c.error(ErrDomain::HErrno, current_h_errno());
  c.str(FieldId::host, dname);
  c.u64(FieldId::qtype, static_cast<uint64_t>(type));
  c.u64(FieldId::len, static_cast<uint64_t>(anslen));
  if (r > 0) c.payload(answer, r < anslen ? r : anslen);  // the DNS answer as it came
  return r;
}

}  // namespace

WS_EXPORT int res_query(const char* dname, int cls, int type, unsigned char* answer, int anslen) {
  return traced_res(FuncId::res_query, REAL(res_query), dname, cls, type, answer, anslen);
}
WS_EXPORT int __res_query(const char* dname, int cls, int type, unsigned char* answer, int anslen) {
  return traced_res(FuncId::res_query, REAL(__res_query), dname, cls, type, answer, anslen);
}

WS_EXPORT int res_search(const char* dname, int cls, int type, unsigned char* answer, int anslen) {
  return traced_res(FuncId::res_search, REAL(res_search), dname, cls, type, answer, anslen);
}
WS_EXPORT int __res_search(const char* dname, int cls, int type, unsigned char* answer,
                           int anslen) {
  return traced_res(FuncId::res_search, REAL(__res_search), dname, cls, type, answer, anslen);
}
