// wstrace's constant tables: lookups over the arrays generated from data/*.tsv.
//
// Pure data and lookups: no OS header, no allocation on the translation paths (to_code,
// to_flags, sockopt_to_code, to_platform, flags_to_platform, find_error), so capture code may
// call them from inside a traced program.
#include "constants.h"

#include <algorithm>
#include <bit>
#include <charconv>
#include <cstddef>
#include <initializer_list>
#include <iterator>

namespace ws {
namespace {

struct ErrorName {
  std::string_view name;  // upper case
  uint16_t index;         // into kErrors
};

struct TableDesc {
  std::string_view title;
  std::string_view unknown_prefix;  // "AF_" -> "AF_???(99)"
  bool flags;
  std::span<const ConstInfo> entries;  // sorted by code
};

struct LevelPrefix {
  uint32_t level;           // SockOptLevel code
  std::string_view prefix;  // "TCP_" -> "TCP_???(99)"; "" when the level has no common prefix
};

#include "constants_generated.inc"

// Written apart from "(" so that no trigraph is ever formed in this file.
constexpr std::string_view kQuery = "???";

// An unknown socket option also keeps the level it was seen at: (level code + 1) in these bits.
constexpr unsigned kLevelShift = 40;
constexpr uint64_t kLevelMask = 0xFFFF;

const TableDesc& desc(ConstTable table) {
  const auto i = static_cast<std::size_t>(table);
  return i < std::size(kTables) ? kTables[i] : kTables[0];
}

int64_t platform_value(const ConstInfo& e, Platform platform) {
  switch (platform) {
    case Platform::Linux: return e.linux_value;
    case Platform::Windows: return e.windows_value;
    case Platform::Unknown: break;
  }
  return kAbsent;
}

// Platform numbers are 32-bit (int, DWORD, unsigned long holding a 32-bit request); a raw value
// matches when its low 32 bits do, whether it arrived sign- or zero-extended.
bool fits_32(int64_t raw) { return raw >= INT32_MIN && raw <= static_cast<int64_t>(UINT32_MAX); }

bool matches(int64_t value, uint32_t key) {
  return value != kAbsent && static_cast<uint32_t>(value) == key;
}

uint64_t unknown_code(int64_t raw) { return kUnknownCode | static_cast<uint32_t>(raw); }

const ConstInfo* entry_by_code(std::span<const ConstInfo> entries, uint64_t code) {
  const auto it = std::lower_bound(entries.begin(), entries.end(), code,
                                   [](const ConstInfo& e, uint64_t c) { return e.code < c; });
  return it != entries.end() && it->code == code ? &*it : nullptr;
}

template <typename T>
void append_number(std::string& out, T value, int base = 10) {
  char buf[24];
  const auto res = std::to_chars(buf, buf + sizeof buf, value, base);
  out.append(buf, res.ptr);
}

std::string unknown_name(std::string_view prefix, int64_t number, bool hex) {
  std::string out(prefix);
  out += kQuery;
  out += '(';
  if (hex) {
    out += "0x";
    append_number(out, static_cast<uint64_t>(number), 16);
  } else {
    append_number(out, number);
  }
  out += ')';
  return out;
}

std::string_view sockopt_prefix(uint64_t code) {
  const uint64_t level = (code >> kLevelShift) & kLevelMask;
  if (level == 0) return {};
  for (const LevelPrefix& p : kLevelPrefixes) {
    if (p.level + 1 == level) return p.prefix;
  }
  return {};
}

std::string_view unknown_error_prefix(ErrDomain domain) {
  switch (domain) {
    case ErrDomain::Errno: return "E";
    case ErrDomain::Win: return "WSA";
    case ErrDomain::Eai: return "EAI_";
    case ErrDomain::HErrno: return "NETDB_";
    case ErrDomain::None: break;
  }
  return "ERR";
}

bool error_less(const ErrorInfo& e, ErrorCode c) {
  return e.domain != c.domain ? e.domain < c.domain : e.value < c.value;
}

}  // namespace

// ---- Errors -------------------------------------------------------------------------------

// Small codes stay small in the trace's varints: zigzag(value) << 3 | domain (errno 111 packs
// into two bytes, WSA 10054 into three, EAI -2 into one).
uint64_t ErrorCode::pack() const {
  if (domain == ErrDomain::None) return 0;
  const auto v = static_cast<int64_t>(value);
  const uint64_t zz = (static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63);
  return (zz << 3) | static_cast<uint64_t>(domain);
}

ErrorCode ErrorCode::unpack(uint64_t packed) {
  const uint64_t d = packed & 7;
  if (d < static_cast<uint64_t>(ErrDomain::Errno) || d > static_cast<uint64_t>(ErrDomain::HErrno)) {
    return {};
  }
  const uint64_t zz = packed >> 3;
  const auto v = static_cast<int64_t>(zz >> 1) ^ -static_cast<int64_t>(zz & 1);
  return {static_cast<ErrDomain>(d), static_cast<int32_t>(v)};
}

std::span<const ErrorInfo> all_errors() { return kErrors; }

const ErrorInfo* find_error(ErrorCode code) {
  if (code.ok()) return nullptr;
  const auto* it = std::lower_bound(std::begin(kErrors), std::end(kErrors), code, error_less);
  return it != std::end(kErrors) && it->domain == code.domain && it->value == code.value ? it
                                                                                          : nullptr;
}

const ErrorInfo* find_error(std::string_view name) {
  char upper[64];
  if (name.empty() || name.size() > sizeof upper) return nullptr;
  for (std::size_t i = 0; i < name.size(); ++i) {
    const char c = name[i];
    upper[i] = c >= 'a' && c <= 'z' ? static_cast<char>(c - 'a' + 'A') : c;
  }
  const std::string_view key(upper, name.size());
  const auto* it =
      std::lower_bound(std::begin(kErrorNames), std::end(kErrorNames), key,
                       [](const ErrorName& n, std::string_view k) { return n.name < k; });
  return it != std::end(kErrorNames) && it->name == key ? &kErrors[it->index] : nullptr;
}

std::vector<ErrorAlias> error_aliases() {
  std::vector<ErrorAlias> out;
  for (const ErrorName& n : kErrorNames)
    if (n.name != kErrors[n.index].name) out.push_back({n.name, &kErrors[n.index]});
  return out;
}

std::vector<const ErrorInfo*> find_errors_by_value(int64_t value) {
  std::vector<const ErrorInfo*> out;
  for (const ErrorInfo& e : kErrors) {
    const bool same = e.value == value;
    const bool eai_abs = e.domain == ErrDomain::Eai && -static_cast<int64_t>(e.value) == value;
    if (same || eai_abs) out.push_back(&e);
  }
  return out;
}

std::string error_name(ErrorCode code) {
  if (code.ok()) return "OK";
  if (const ErrorInfo* e = find_error(code)) return std::string(e->name);
  return unknown_name(unknown_error_prefix(code.domain), code.value, false);
}

std::string_view domain_name(ErrDomain domain) {
  switch (domain) {
    case ErrDomain::Errno: return "errno";
    case ErrDomain::Win: return "Winsock/Win32";
    case ErrDomain::Eai: return "getaddrinfo";
    case ErrDomain::HErrno: return "h_errno";
    case ErrDomain::None: break;
  }
  return "none";
}

// ---- Value tables -------------------------------------------------------------------------

std::span<const ConstInfo> table_entries(ConstTable table) { return desc(table).entries; }

std::string_view table_name(ConstTable table) { return desc(table).title; }

bool is_flags(ConstTable table) { return desc(table).flags; }

uint64_t to_code(ConstTable table, Platform platform, int64_t raw) {
  // A socket option number means nothing without its level: use sockopt_to_code().
  if (!fits_32(raw) || table == ConstTable::SockOpt) return unknown_code(raw);
  const auto key = static_cast<uint32_t>(raw);
  for (const ConstInfo& e : desc(table).entries) {
    if (matches(platform_value(e, platform), key)) return e.code;
  }
  return unknown_code(raw);
}

std::string code_name(ConstTable table, uint64_t code) {
  const TableDesc& d = desc(table);
  if ((code & kUnknownCode) != 0) {
    const auto raw32 = static_cast<uint32_t>(code);
    std::string_view prefix = d.unknown_prefix;
    if (table == ConstTable::SockOpt) {
      const std::string_view level_prefix = sockopt_prefix(code);
      if (!level_prefix.empty()) prefix = level_prefix;
    }
    if (table == ConstTable::Ioctl || d.flags) return unknown_name(prefix, raw32, true);
    return unknown_name(prefix, static_cast<int32_t>(raw32), false);
  }
  if (const ConstInfo* e = entry_by_code(d.entries, code)) return std::string(e->name);
  std::string out(d.unknown_prefix.empty() ? std::string_view("CONST_") : d.unknown_prefix);
  out += kQuery;
  out += "(code ";
  append_number(out, code);
  out += ')';
  return out;
}

int64_t to_platform(ConstTable table, Platform platform, uint64_t code) {
  if ((code & kUnknownCode) != 0) {
    const auto raw32 = static_cast<uint32_t>(code);
    // ioctl requests are unsigned DWORD / unsigned long; everything else is an int.
    if (table == ConstTable::Ioctl) return raw32;
    return static_cast<int32_t>(raw32);
  }
  const ConstInfo* e = entry_by_code(desc(table).entries, code);
  return e != nullptr ? platform_value(*e, platform) : kAbsent;
}

uint64_t to_flags(ConstTable table, Platform platform, uint64_t raw) {
  auto remaining = static_cast<uint32_t>(raw);
  uint64_t flags = 0;
  const auto entries = desc(table).entries;
  // Entries whose platform value has several bits (Windows POLLIN = 0x300) first, so that they
  // win over the single bits they are made of; then single bits in code order.
  for (const bool multi : {true, false}) {
    for (const ConstInfo& e : entries) {
      const int64_t value = platform_value(e, platform);
      if (value == kAbsent || value == 0 || e.code > 31) continue;
      const auto bits = static_cast<uint32_t>(value);
      if ((std::popcount(bits) > 1) != multi) continue;
      if ((remaining & bits) == bits) {
        flags |= uint64_t{1} << e.code;
        remaining &= ~bits;
      }
    }
  }
  return flags | (static_cast<uint64_t>(remaining) << 32);
}

std::string flags_name(ConstTable table, uint64_t flags) {
  if (flags == 0) return "0";
  const TableDesc& d = desc(table);
  std::string out;
  for (unsigned bit = 0; bit < 32; ++bit) {
    if ((flags & (uint64_t{1} << bit)) == 0) continue;
    if (!out.empty()) out += '|';
    if (const ConstInfo* e = entry_by_code(d.entries, bit)) {
      out += e->name;
    } else {
      out += d.unknown_prefix;
      out += kQuery;
      out += "(bit ";
      append_number(out, bit);
      out += ')';
    }
  }
  if (const uint64_t leftover = flags >> 32; leftover != 0) {
    if (!out.empty()) out += '|';
    out += unknown_name(d.unknown_prefix, static_cast<int64_t>(leftover), true);
  }
  return out;
}

uint64_t flags_to_platform(ConstTable table, Platform platform, uint64_t flags) {
  uint64_t out = flags >> 32;  // platform bits that had no entry travel unchanged
  const auto entries = desc(table).entries;
  for (unsigned bit = 0; bit < 32; ++bit) {
    if ((flags & (uint64_t{1} << bit)) == 0) continue;
    const ConstInfo* e = entry_by_code(entries, bit);
    if (e == nullptr) continue;
    const int64_t value = platform_value(*e, platform);
    if (value != kAbsent) out |= static_cast<uint32_t>(value);
  }
  return out;
}

uint64_t sockopt_to_code(Platform platform, int64_t level_raw, int64_t name_raw) {
  const uint64_t level = to_code(ConstTable::SockOptLevel, platform, level_raw);
  if ((level & kUnknownCode) != 0 || !fits_32(name_raw)) return unknown_code(name_raw);
  const auto key = static_cast<uint32_t>(name_raw);
  for (const ConstInfo& e : kTableSockOpt) {
    if (e.level == level && matches(platform_value(e, platform), key)) return e.code;
  }
  return unknown_code(name_raw) | ((level + 1) << kLevelShift);
}

}  // namespace ws
