// The pre-filter of a filter (prefilter.h). Each test becomes one clause, or "anything" when its
// dimension is not one the kernel checks; `or` joins clause lists, `and` crosses them, `not`
// lets everything through. Every step may only widen: the result must keep what the filter
// keeps.
#include "prefilter.h"

#include <algorithm>

#include "filter_internal.h"

namespace ws::inspect {
namespace {

using detail::Key;
using detail::Node;
using detail::NodeType;
using detail::Op;
using detail::Program;
using Clauses = std::vector<PreClause>;

Clauses anything() { return {PreClause{}}; }

bool lets_all(const Clauses& c) {
  return std::any_of(c.begin(), c.end(), [](const PreClause& x) { return x.free(); });
}

template <typename T>
std::vector<T> sorted(std::vector<T> v) {
  std::sort(v.begin(), v.end());
  v.erase(std::unique(v.begin(), v.end()), v.end());
  return v;
}

// The clause of one test (`==` and `in`; `startswith` for names), or anything.
Clauses test_clauses(const Program& p, const Node& n) {
  PreClause c;
  const bool eq = n.op == Op::Eq;
  switch (n.key) {
    case Key::Pid: {
      if (!eq) return anything();
      std::vector<uint32_t> v;
      for (uint32_t k = n.begin; k < n.end; ++k) v.push_back(static_cast<uint32_t>(p.nums[k]));
      c.pids = sorted(std::move(v));
      break;
    }
    case Key::Proc: {
      // `proc == client` also matches client.exe: a prefix either way.
      if (!eq && n.op != Op::StartsWith) return anything();
      std::vector<std::string> v;
      for (uint32_t k = n.begin; k < n.end; ++k)
        v.push_back(detail::to_lower(std::string_view(p.strs[k]).substr(0, kPreNameMax)));
      c.names = sorted(std::move(v));
      break;
    }
    case Key::Func:
    case Key::Event: {
      if (!eq) return anything();  // (names the parser resolved to sets: Eq, or Ne for "none of")
      std::vector<FuncId> v;
      for (uint32_t k = n.begin; k < n.end; ++k) {
        if (n.key == Key::Func) {
          if (p.nums[k] < static_cast<uint64_t>(FuncId::kCount))
            v.push_back(static_cast<FuncId>(p.nums[k]));
          continue;
        }
        for (size_t f = 0; f < static_cast<size_t>(FuncId::kCount); ++f)
          if (static_cast<uint64_t>(kFuncEvent[f]) == p.nums[k]) v.push_back(static_cast<FuncId>(f));
      }
      c.funcs = sorted(std::move(v));
      break;
    }
    case Key::Port:
    case Key::Lport:
    case Key::Rport: {  // (which end is not told apart: either will do)
      if (!eq) return anything();
      std::vector<uint16_t> v;
      for (uint32_t k = n.begin; k < n.end; ++k)
        if (p.nums[k] <= UINT16_MAX) v.push_back(static_cast<uint16_t>(p.nums[k]));
      c.ports = sorted(std::move(v));
      break;
    }
    case Key::Ip:
    case Key::Lip:
    case Key::Rip: {
      if (!eq) return anything();
      std::vector<PreCidr> v;
      for (uint32_t k = n.begin; k < n.end; ++k) v.push_back({p.cidrs[k].ip, p.cidrs[k].bits});
      c.addrs = std::move(v);
      break;
    }
    default: return anything();
  }
  return {c};
}

// Both clauses at once; nothing when they cannot both hold. A single-valued dimension (pid,
// function) takes the common values; for the others (a call has two ports, two addresses, and
// its process may be named anew) one side's set is kept: wider than both, never narrower.
std::optional<PreClause> both(const PreClause& a, const PreClause& b) {
  PreClause c = a;
  auto common = [](auto& mine, const auto& theirs) {
    if (!theirs) return true;
    if (!mine) {
      mine = theirs;
      return true;
    }
    std::remove_reference_t<decltype(*mine)> v;
    std::set_intersection(mine->begin(), mine->end(), theirs->begin(), theirs->end(),
                          std::back_inserter(v));
    mine = std::move(v);
    return !mine->empty();
  };
  if (!common(c.pids, b.pids) || !common(c.funcs, b.funcs)) return std::nullopt;
  if (!c.names) c.names = b.names;
  if (!c.ports) c.ports = b.ports;
  if (!c.addrs) c.addrs = b.addrs;
  return c;
}

Clauses node_clauses(const Program& p, uint32_t i) {
  const Node& n = p.nodes[i];
  switch (n.type) {
    case NodeType::Test: return test_clauses(p, n);
    case NodeType::Not: return anything();
    case NodeType::Or: {
      Clauses out;
      for (uint32_t k = n.begin; k < n.end; ++k) {
        Clauses c = node_clauses(p, p.kids[k]);
        if (lets_all(c)) return anything();
        out.insert(out.end(), c.begin(), c.end());
        if (out.size() > kPreMaxClauses) return anything();
      }
      return out;
    }
    case NodeType::And: {
      Clauses out = anything();
      for (uint32_t k = n.begin; k < n.end; ++k) {
        Clauses c = node_clauses(p, p.kids[k]);
        if (out.size() * c.size() > kPreMaxClauses) {  // too many: one side holds all the others
          if (c.size() < out.size()) out = std::move(c);
          continue;
        }
        Clauses crossed;
        for (const PreClause& a : out)
          for (const PreClause& b : c)
            if (auto x = both(a, b)) crossed.push_back(std::move(*x));
        out = std::move(crossed);
      }
      return out;
    }
  }
  return anything();
}

}  // namespace

bool PreCidr::contains(const std::array<uint8_t, 16>& addr) const {
  return detail::Cidr{ip, bits}.contains(addr);
}

bool PreFilter::all() const { return lets_all(clauses); }

bool PreFilter::admits(const PreFacts& f) const {
  const std::string name = detail::to_lower(f.name.substr(0, kPreNameMax));
  for (const PreClause& c : clauses) {
    if (c.pids && !std::binary_search(c.pids->begin(), c.pids->end(), f.pid)) continue;
    if (c.names && std::none_of(c.names->begin(), c.names->end(),
                                [&](const std::string& p) { return name.starts_with(p); }))
      continue;
    if (f.is_call) {
      if (c.funcs && !std::binary_search(c.funcs->begin(), c.funcs->end(), f.func)) continue;
      if (c.ports && std::none_of(f.ports.begin(), f.ports.end(), [&](uint16_t port) {
            return std::binary_search(c.ports->begin(), c.ports->end(), port);
          }))
        continue;
      if (c.addrs && std::none_of(f.addrs.begin(), f.addrs.end(), [&](const auto& a) {
            return std::any_of(c.addrs->begin(), c.addrs->end(),
                               [&](const PreCidr& b) { return b.contains(a); });
          }))
        continue;
    }
    return true;
  }
  return false;
}

PreFilter derive_prefilter(const Filter& filter) {
  PreFilter out;
  out.clauses = filter.program_ ? node_clauses(*filter.program_, filter.program_->root)
                                : anything();
  if (out.all()) out.clauses = anything();
  return out;
}

}  // namespace ws::inspect
