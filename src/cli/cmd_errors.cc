// `wstrace errors`: explains error codes from wstrace's tables (src/consts, data/errors_*.tsv).
//
//   wstrace errors 10060            WSAETIMEDOUT, with its meaning and what to check
//   wstrace errors ECONNREFUSED     by name, any case; aliases such as EWOULDBLOCK work too
//   wstrace errors 2                every code numbered 2, in every domain
//   wstrace errors                  the whole list as a table
//   --json                          the same as JSON
#include "cmd_errors.h"

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "constants.h"
#include "safe_text.h"

namespace ws::cli {
namespace {

constexpr std::size_t kWidth = 100;  // text wraps at this column
constexpr std::string_view kIndent = "           ";

struct Options {
  std::vector<std::string> codes;
  bool json = false;
};

struct Query {
  std::string text;                        // as typed
  std::vector<const ErrorInfo*> matches;   // empty: unknown
};

// "10060", "-2", "0x2746" -> the number; anything else is a name.
bool parse_number(std::string_view text, int64_t& out) {
  bool negative = false;
  if (!text.empty() && (text[0] == '-' || text[0] == '+')) {
    negative = text[0] == '-';
    text.remove_prefix(1);
  }
  int base = 10;
  if (text.size() > 2 && text[0] == '0' && (text[1] == 'x' || text[1] == 'X')) {
    base = 16;
    text.remove_prefix(2);
  }
  if (text.empty() || text.size() > 16) return false;
  uint64_t value = 0;
  for (const char c : text) {
    int digit = 0;
    if (c >= '0' && c <= '9') {
      digit = c - '0';
    } else if (base == 16 && c >= 'a' && c <= 'f') {
      digit = c - 'a' + 10;
    } else if (base == 16 && c >= 'A' && c <= 'F') {
      digit = c - 'A' + 10;
    } else {
      return false;
    }
    value = value * static_cast<uint64_t>(base) + static_cast<uint64_t>(digit);
  }
  if (value > static_cast<uint64_t>(INT64_MAX)) return false;
  out = negative ? -static_cast<int64_t>(value) : static_cast<int64_t>(value);
  return true;
}

Query resolve(const std::string& text) {
  Query q{text, {}};
  int64_t number = 0;
  if (parse_number(text, number)) {
    q.matches = find_errors_by_value(number);
  } else if (const ErrorInfo* e = find_error(std::string_view(text))) {
    q.matches.push_back(e);
  }
  return q;
}

// The Windows codes whose Linux equivalent is this entry (for errno, EAI_ and h_errno codes).
std::vector<const ErrorInfo*> windows_equivalents(const ErrorInfo& e) {
  std::vector<const ErrorInfo*> out;
  if (e.domain == ErrDomain::Win) return out;
  for (const ErrorInfo& w : all_errors()) {
    if (w.domain == ErrDomain::Win && w.posix == e.name) out.push_back(&w);
  }
  // The Winsock names first (WSAECONNREFUSED before ERROR_CONNECTION_REFUSED), then by number.
  std::stable_sort(out.begin(), out.end(), [](const ErrorInfo* a, const ErrorInfo* b) {
    const bool wa = a->name.starts_with("WSA"), wb = b->name.starts_with("WSA");
    return wa != wb ? wa : a->value < b->value;
  });
  return out;
}

std::string with_number(const ErrorInfo& e) { return fmt::format("{} ({})", e.name, e.value); }

// Prints `label` and `text`, wrapping the text at kWidth under an indent.
void print_wrapped(std::string_view label, std::string_view text) {
  std::string line = fmt::format("  {:<8} ", label);
  bool first_word = true;
  std::size_t pos = 0;
  while (pos < text.size()) {
    std::size_t end = text.find(' ', pos);
    if (end == std::string_view::npos) end = text.size();
    const std::string_view word = text.substr(pos, end - pos);
    pos = end + 1;
    if (word.empty()) continue;
    if (!first_word && line.size() + 1 + word.size() > kWidth) {
      fmt::print("{}\n", line);
      line = std::string(kIndent);
      first_word = true;
    }
    if (!first_word) line += ' ';
    line += word;
    first_word = false;
  }
  fmt::print("{}\n", line);
}

void print_entry(const ErrorInfo& e, std::string_view typed_name) {
  fmt::print("{} ({}), {}\n", e.name, e.value, domain_name(e.domain));
  if (!typed_name.empty()) {
    fmt::print("  ({} is another name for {})\n", typed_name, e.name);
  }
  print_wrapped("meaning", e.meaning);
  print_wrapped("hint", e.hint);
  if (!e.posix.empty()) {
    const ErrorInfo* p = find_error(e.posix);
    print_wrapped("same as", fmt::format("{} on Linux", p ? with_number(*p) : std::string(e.posix)));
  }
  const auto win = windows_equivalents(e);
  if (!win.empty()) {
    std::string names;
    for (const ErrorInfo* w : win) {
      if (!names.empty()) names += ", ";
      names += with_number(*w);
    }
    print_wrapped("Windows", names);
  }
}

bool same_name(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    auto up = [](char c) { return c >= 'a' && c <= 'z' ? static_cast<char>(c - 'a' + 'A') : c; };
    if (up(a[i]) != up(b[i])) return false;
  }
  return true;
}

void print_query(const Query& q, bool numeric) {
  if (q.matches.size() > 1) {
    fmt::print("{} matches {} codes:\n\n", q.text, q.matches.size());
  }
  bool first = true;
  for (const ErrorInfo* e : q.matches) {
    if (!first) fmt::print("\n");
    first = false;
    // Say so when the name typed is an alias (EWOULDBLOCK -> EAGAIN).
    const bool alias = !numeric && !same_name(q.text, e->name);
    print_entry(*e, alias ? std::string_view(q.text) : std::string_view());
  }
}

void print_table() {
  std::size_t name_width = 4;
  for (const ErrorInfo& e : all_errors()) name_width = std::max(name_width, e.name.size());
  fmt::print("{:<{}}  {:>6}  {:<13}  {}\n", "NAME", name_width, "NUMBER", "DOMAIN", "MEANING");
  for (const ErrorInfo& e : all_errors()) {
    fmt::print("{:<{}}  {:>6}  {:<13}  {}\n", e.name, name_width, e.value, domain_name(e.domain),
               e.meaning);
  }
}

nlohmann::ordered_json to_json(const ErrorInfo& e) {
  nlohmann::ordered_json j;
  j["name"] = e.name;
  j["value"] = e.value;
  j["domain"] = domain_name(e.domain);
  j["meaning"] = e.meaning;
  j["hint"] = e.hint;
  if (e.domain == ErrDomain::Win) {
    j["posix"] = e.posix;
  } else {
    auto win = nlohmann::ordered_json::array();
    for (const ErrorInfo* w : windows_equivalents(e)) {
      win.push_back(nlohmann::ordered_json{{"name", w->name}, {"value", w->value}});
    }
    j["windows"] = std::move(win);
  }
  return j;
}

int run_errors(const Options& opt) {
  if (opt.codes.empty()) {
    if (opt.json) {
      auto list = nlohmann::ordered_json::array();
      for (const ErrorInfo& e : all_errors()) list.push_back(to_json(e));
      fmt::print("{}\n", present::json_dump(list, 2));
    } else {
      print_table();
    }
    return 0;
  }

  int rc = 0;
  std::vector<Query> queries;
  for (const std::string& text : opt.codes) {
    queries.push_back(resolve(text));
    if (queries.back().matches.empty()) {
      std::fflush(stdout);
      fmt::print(stderr, "wstrace: unknown error code '{}' (try 'wstrace errors' for the list)\n",
                 text);
      rc = 1;
    }
  }
  if (opt.json) {
    auto out = nlohmann::ordered_json::array();
    for (const Query& q : queries) {
      auto matches = nlohmann::ordered_json::array();
      for (const ErrorInfo* e : q.matches) matches.push_back(to_json(*e));
      out.push_back(nlohmann::ordered_json{{"query", q.text}, {"matches", std::move(matches)}});
    }
    fmt::print("{}\n", present::json_dump(out, 2));
    return rc;
  }
  bool first = true;
  for (const Query& q : queries) {
    if (q.matches.empty()) continue;
    if (!first) fmt::print("\n");
    first = false;
    int64_t ignored = 0;
    print_query(q, parse_number(q.text, ignored));
  }
  return rc;
}

}  // namespace

void add_errors_command(CLI::App& app, int& exit_code) {
  auto opt = std::make_shared<Options>();
  auto* cmd = app.add_subcommand(
      "errors", "Explain error codes (errno, Winsock/Win32, getaddrinfo, h_errno) by name or number");
  cmd->add_option("CODE", opt->codes,
                  "error names or numbers, e.g. 10060, WSAECONNRESET, ECONNREFUSED, EAI_NONAME, "
                  "-2, 0x2746 (none: list every code)");
  cmd->add_flag("--json", opt->json, "print JSON");
  cmd->footer(
      "Numbers are looked up in every domain (2 is ENOENT, ERROR_FILE_NOT_FOUND, TRY_AGAIN and\n"
      "EAI_NONAME, whose getaddrinfo value is -2). Names ignore case.");
  cmd->callback([opt, &exit_code] { exit_code = run_errors(*opt); });
}

}  // namespace ws::cli
