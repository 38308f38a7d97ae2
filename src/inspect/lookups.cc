#include "lookups.h"

#include <algorithm>

#include "dns.h"
#include "event_builder.h"
#include "sockaddr.h"

namespace ws::inspect {
namespace {

constexpr uint16_t kDnsPort = 53;
constexpr size_t kMaxTcpFrame = 65535 + 2;

std::span<const uint8_t> payload_of(const Value& v) { return {v.data, v.size}; }

void add_unique(std::vector<std::string>& list, std::string s) {
  if (std::find(list.begin(), list.end(), s) == list.end()) list.push_back(std::move(s));
}

// The answers of a DNS response as text: addresses as they are, other records with their type.
void dns_answers(const decode::DnsMessage& m, std::vector<std::string>& out) {
  for (const auto& r : m.answers) {
    if (r.type == 1 || r.type == 28) add_unique(out, r.data);
    else add_unique(out, decode::dns_type_name(r.type) + " " + r.data);
  }
}

void dns_result(const decode::DnsMessage& m, Lookup& l) {
  l.ok = m.ok() && m.rcode == 0;
  if (!m.ok()) {
    l.result = m.status == decode::DnsStatus::Truncated ? "cut" : "malformed";
    l.meaning = m.problem;
  } else {
    l.result = l.ok ? "ok" : decode::dns_rcode_name(m.rcode);
  }
}

}  // namespace

void LookupWatcher::observe(const Event& ev) {
  const EventType t = ev.type();
  if (t == EventType::lookup || t == EventType::reverse_lookup) {
    from_call(ev);
    return;
  }
  const Connection* c = tracker_.connection();
  if (c == nullptr) return;
  if (t == EventType::close) {
    tcp_buf_.erase(c->id * 2);
    tcp_buf_.erase(c->id * 2 + 1);
    by_content_.erase(c->id);
    return;
  }
  if (t != EventType::send && t != EventType::recv && t != EventType::io_complete) return;
  if (!c->remote || !c->remote->is_inet()) return;
  if (!ev.error.ok() || ev.result <= 0) return;
  // A call that returned bytes but moved none (the tracker's count) was a peek: the receive
  // that takes them brings them again.
  if (tracker_.moved() == 0) return;
  const Value* p = ev.get(FieldId::payload);
  if (p == nullptr || p->size == 0) return;
  const bool port53 = c->remote->port == kDnsPort || (c->local && c->local->port == kDnsPort);
  if (!port53 && !is_dns_flow(*c, *p)) return;
  // Overlapped completions carry received data only.
  from_payload(ev, *c, *p, t == EventType::send, !port53);
}

// DNS on another port (`dig -p 5353`, a resolver on a test port) is recognised by content, UDP
// only: the flow's first datagram with data must be a plain query (decode::is_plain_dns_query),
// and from then on only plain queries and the responses to them count. TCP off port 53 is not
// taken for DNS: a 2-byte length before a message is too weak a sign.
bool LookupWatcher::is_dns_flow(const Connection& c, const Value& payload) {
  if (!c.kind().starts_with("udp")) return false;
  if (auto it = by_content_.find(c.id); it != by_content_.end()) return it->second;
  const bool dns = payload.size == payload.num &&
                   decode::is_plain_dns_query(decode::parse_dns(payload_of(payload), true),
                                              payload.size);
  by_content_.emplace(c.id, dns);
  return dns;
}

void LookupWatcher::from_call(const Event& ev) {
  Lookup l;
  l.seq = ev.seq;
  l.ts = ev.ts;
  l.dur = ev.dur;
  l.pid = ev.pid;
  l.tid = ev.tid;
  l.via = ev.func < FuncId::kCount ? std::string(func_def(ev.func).name) : "?";
  l.service = std::string(ev.text(FieldId::service));
  l.ok = ev.error.ok();
  if (ev.type() == EventType::reverse_lookup) {
    SockAddr a;
    const Value* v = ev.get(FieldId::addr);
    if (v && decode_addr(v->bytes(), a)) l.name = a.is_inet() ? ip_string(a) : to_string(a);
    if (std::string host = std::string(ev.text(FieldId::host)); !host.empty()) l.answers.push_back(host);
  } else {
    l.name = std::string(ev.text(FieldId::host));
    if (const Value* q = ev.get(FieldId::qtype)) {
      l.asked = decode::dns_type_name(static_cast<uint16_t>(q->num));
    } else if (const Value* f = ev.get(FieldId::hint_family)) {
      l.asked = code_name(ConstTable::AddrFamily, f->num);
    }
    std::vector<SockAddr> list;
    if (const Value* v = ev.get(FieldId::addrs); v && decode_addr_list(v->bytes(), list))
      for (const auto& a : list) add_unique(l.answers, ip_string(a));
    if (const Value* p = ev.get(FieldId::payload); p && l.ok && p->size > 0) {
      // res_query and friends return the DNS answer itself.
      const decode::DnsMessage m = decode::parse_dns(payload_of(*p), p->size == p->num);
      dns_answers(m, l.answers);
      learn(m, l.name);
    }
    if (std::string canon = std::string(ev.text(FieldId::canon)); !canon.empty() && canon != l.name)
      l.answers.push_back("CNAME " + canon);
  }
  if (!l.ok) {
    l.result = error_name(ev.error);
    if (const ErrorInfo* info = find_error(ev.error)) l.meaning = std::string(info->meaning);
  } else {
    l.result = "ok";
  }
  if (on_lookup) on_lookup(l);
}

void LookupWatcher::from_payload(const Event& ev, const Connection& c, const Value& p, bool out,
                                 bool by_content) {
  const bool whole = p.size == p.num;
  if (c.kind().starts_with("udp")) {
    message(ev, c, payload_of(p), whole, false, by_content);
    return;
  }
  // TCP: length-prefixed messages that may span calls.
  std::string& buf = tcp_buf_[c.id * 2 + (out ? 1 : 0)];
  if (!whole) {  // a gap: the framing is lost from here on
    buf.clear();
    return;
  }
  buf.append(p.bytes());
  const auto* data = reinterpret_cast<const uint8_t*>(buf.data());
  // Whole frames (2 bytes of length, then the message) go to message(); the rest waits.
  size_t at = 0;
  while (buf.size() - at >= 2) {
    const size_t len = (size_t{data[at]} << 8) | data[at + 1];
    if (buf.size() - at - 2 < len) break;
    message(ev, c, {data + at + 2, len}, true, true, false);
    at += 2 + len;
  }
  buf.erase(0, at);
  if (buf.size() > kMaxTcpFrame) buf.clear();
}

namespace {

// A lookup seen as a DNS message: who sent it, on which connection, what it asked.
Lookup packet_lookup(const Event& ev, const Connection& c, const decode::DnsMessage& m, bool tcp) {
  Lookup l;
  l.packet = true;
  l.seq = ev.seq;
  l.ts = ev.ts;
  l.pid = ev.pid;
  l.tid = ev.tid;
  l.conn = c.id;
  l.via = tcp ? "tcp" : "udp";
  l.dns_id = m.id;
  if (!m.questions.empty()) {
    l.name = m.questions[0].name;
    l.asked = decode::dns_type_name(m.questions[0].type);
  }
  return l;
}

}  // namespace

void LookupWatcher::message(const Event& ev, const Connection& c, std::span<const uint8_t> bytes,
                            bool whole, bool tcp, bool by_content) {
  const decode::DnsMessage m = decode::parse_dns(bytes, whole);
  if (!m.header_complete) return;
  if (by_content && !m.qr && !decode::is_plain_dns_query(m, bytes.size())) return;
  if (!m.qr) {
    Lookup l = packet_lookup(ev, c, m, tcp);
    l.answered = false;
    l.result = "no answer";
    if (waiting_.size() >= kMaxWaiting) {
      if (on_lookup) on_lookup(waiting_.begin()->second);
      waiting_.erase(waiting_.begin());
    }
    auto [it, fresh] = waiting_.try_emplace(WaitKey{c.id, m.id}, l);
    if (!fresh) {  // a retransmission: the earlier query is reported unanswered, this one waits
      if (on_lookup) on_lookup(it->second);
      it->second = l;
    }
    return;
  }
  Lookup l;
  auto it = waiting_.find(WaitKey{c.id, m.id});
  if (it != waiting_.end()) {
    l = std::move(it->second);
    waiting_.erase(it);
    l.dur = static_cast<uint64_t>(ev.ts + static_cast<int64_t>(ev.dur) - l.ts);
  } else {  // a response whose query wstrace did not see
    if (by_content) return;  // off port 53 only the answers to queries seen count
    l = packet_lookup(ev, c, m, tcp);
  }
  l.answered = true;
  dns_answers(m, l.answers);
  dns_result(m, l);
  learn(m, l.name);
  if (on_lookup) on_lookup(l);
}

// What the answers call their addresses: the name asked.
void LookupWatcher::learn(const decode::DnsMessage& m, const std::string& name) {
  for (const auto& r : m.answers) {
    SockAddr a;
    if ((r.type == 1 || r.type == 28) && parse_ip(r.data, a)) tracker_.learn_host(a, name);
  }
}

void LookupWatcher::finish() {
  for (auto& [key, l] : waiting_)
    if (on_lookup) on_lookup(l);
  waiting_.clear();
}

}  // namespace ws::inspect
