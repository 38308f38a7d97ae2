// The filter's grammar, from loosest to tightest binding:
//
//   filter  := or END
//   or      := and { ('or' | '||') and }
//   and     := unary { ('and' | '&&') unary }
//   unary   := ('not' | '!') unary | primary
//   primary := '(' or ')' | test
//   test    := FIELD [ OP values | ('in' | 'not' 'in') values ]
//   values  := value | '(' value { ',' value } ')'
//
// Every problem stops the parse with one message: the filter, a caret under the token at fault,
// and what was expected there.
#include <algorithm>
#include <string>
#include <string_view>
#include <vector>

#include "filter_internal.h"

namespace ws::inspect::detail {
namespace {

constexpr int kMaxDepth = 200;         // nested '(' and 'not': bounds the recursion
constexpr size_t kMaxText = 1u << 20;  // 1 MiB: far beyond any real filter

constexpr std::string_view kKeywords[] = {"and",      "or",         "not",     "in",
                                          "contains", "startswith", "endswith"};

bool is_keyword(std::string_view w) {
  return std::any_of(std::begin(kKeywords), std::end(kKeywords),
                     [&](std::string_view k) { return ieq(k, w); });
}

uint8_t test_cost(Key k) {
  switch (k) {
    case Key::Pid:
    case Key::Tid:
    case Key::Func:
    case Key::Event:
    case Key::Err:
    case Key::Failed:
    case Key::Ret:
    case Key::Dur: return 0;
    case Key::Sock:
    case Key::Bytes:
    case Key::Raw: return 1;
    case Key::Payload: return 3;
    default: return 2;  // asks the context
  }
}

// The filter on one line (control characters shown as spaces), then the caret and the message.
std::string caret_message(std::string_view text, size_t pos, std::string_view message) {
  std::string line;
  line.reserve(text.size());
  size_t col = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    line += c < 0x20 || c == 0x7f ? ' ' : static_cast<char>(c);
    if (i < pos && (c & 0xc0) != 0x80) ++col;  // columns count characters, not UTF-8 bytes
  }
  return line + "\n" + std::string(col, ' ') + "^ " + std::string(message);
}

class Parser {
 public:
  Parser(std::string_view src, Program& p) : src_(src), p_(p), toks_(lex(src)) {}

  Status run() {
    if (toks_.front().type == Tok::End) {
      return Status::error(
          "empty filter: write a condition such as 'rport == 443 and failed' (see "
          "docs/filters.md)");
    }
    uint32_t root = 0;
    if (parse_or(root)) {
      if (peek().type == Tok::RParen)
        fail(peek().pos,
             "expected 'and', 'or' or the end of the filter, found ')' (no '(' is open)");
      else if (peek().type != Tok::End)
        unexpected("'and', 'or' or the end of the filter");
      else
        p_.root = root;
    }
    if (!message_.empty()) return Status::error(caret_message(src_, error_pos_, message_));
    return {};
  }

 private:
  const Token& peek(size_t ahead = 0) const {
    return toks_[std::min(i_ + ahead, toks_.size() - 1)];
  }
  bool at_keyword(std::string_view k, size_t ahead = 0) const {
    return peek(ahead).type == Tok::Word && ieq(peek(ahead).text, k);
  }
  bool at_and() const { return peek().type == Tok::AndAnd || at_keyword("and"); }
  bool at_or() const { return peek().type == Tok::OrOr || at_keyword("or"); }

  std::string found(const Token& t) const {
    if (t.type == Tok::End) return "the end of the filter";
    std::string_view s = src_.substr(t.pos, t.len);
    if (s.size() > 40) return "'" + std::string(s.substr(0, 37)) + "...'";
    return "'" + std::string(s) + "'";
  }

  bool fail(size_t pos, std::string message) {
    if (message_.empty()) {
      error_pos_ = pos;
      message_ = std::move(message);
    }
    return false;
  }
  // The token in front of us is not what we need: say what was expected (or pass on the
  // lexer's message when it could not read on).
  bool unexpected(std::string_view expected) {
    const Token& t = peek();
    if (t.type == Tok::Error) return fail(t.pos, t.text);
    return fail(t.pos, "expected " + std::string(expected) + ", found " + found(t));
  }

  uint32_t add(const Node& n) {
    p_.nodes.push_back(n);
    return static_cast<uint32_t>(p_.nodes.size() - 1);
  }
  // An and/or of `items`, cheapest first: the answer does not depend on the order, the work does.
  uint32_t add_group(NodeType type, std::vector<uint32_t>& items) {
    if (items.size() == 1) return items[0];
    std::stable_sort(items.begin(), items.end(),
                     [&](uint32_t a, uint32_t b) { return p_.nodes[a].cost < p_.nodes[b].cost; });
    Node n;
    n.type = type;
    n.begin = static_cast<uint32_t>(p_.kids.size());
    for (uint32_t i : items) {
      p_.kids.push_back(i);
      n.cost = std::max(n.cost, p_.nodes[i].cost);
    }
    n.end = static_cast<uint32_t>(p_.kids.size());
    return add(n);
  }

  bool parse_or(uint32_t& out) {
    std::vector<uint32_t> items(1);
    if (!parse_and(items[0])) return false;
    while (at_or()) {
      ++i_;
      if (!parse_and(items.emplace_back())) return false;
    }
    out = add_group(NodeType::Or, items);
    return true;
  }

  bool parse_and(uint32_t& out) {
    std::vector<uint32_t> items(1);
    if (!parse_unary(items[0])) return false;
    while (at_and()) {
      ++i_;
      if (!parse_unary(items.emplace_back())) return false;
    }
    out = add_group(NodeType::And, items);
    return true;
  }

  bool enter(size_t pos) {
    if (++depth_ > kMaxDepth) {
      return fail(pos, "the filter nests more than " + std::to_string(kMaxDepth) +
                           " levels of '(' and 'not'");
    }
    return true;
  }

  bool parse_unary(uint32_t& out) {
    if (peek().type != Tok::Bang && !at_keyword("not")) return parse_primary(out);
    if (!enter(peek().pos)) return false;
    ++i_;
    uint32_t child = 0;
    if (!parse_unary(child)) return false;
    --depth_;
    Node n;
    n.type = NodeType::Not;
    n.begin = static_cast<uint32_t>(p_.kids.size());
    p_.kids.push_back(child);
    n.end = n.begin + 1;
    n.cost = p_.nodes[child].cost;
    out = add(n);
    return true;
  }

  bool parse_primary(uint32_t& out) {
    const Token& t = peek();
    if (t.type == Tok::LParen) {
      const size_t open = t.pos;
      if (!enter(open)) return false;
      ++i_;
      if (!parse_or(out)) return false;
      --depth_;
      if (peek().type == Tok::RParen) {
        ++i_;
        return true;
      }
      if (peek().type == Tok::End)
        return fail(open, "unclosed '(': expected ')' before the end of the filter");
      return unexpected("'and', 'or' or ')'");
    }
    if (t.type == Tok::Word && !is_keyword(t.text)) return parse_test(out);
    return unexpected("a condition (a field such as 'rport' or 'failed', 'not' or '(')");
  }

  bool parse_test(uint32_t& out) {
    const Token& ft = peek();
    FieldSpec f;
    std::string why;
    if (!find_field(ft.text, f, why)) return fail(ft.pos, why);
    ++i_;
    Node n;
    n.key = f.key;
    n.kind = f.kind;
    n.raw = f.raw;
    n.is_signed = f.is_signed;
    n.cost = test_cost(f.key);
    if (n.kind == Kind::Text && n.cost == 1) n.cost = 2;

    const Token& ot = peek();
    const size_t op_pos = ot.pos;
    const size_t op_tokens = read_operator(n.op);
    if (op_tokens == 0) return bare_field(f, n, out);
    const std::string op_text =
        op_tokens == 2 ? "not in" : std::string(src_.substr(op_pos, ot.len));
    if (!op_fits(n.kind, n.op)) {
      return fail(op_pos, "'" + op_text + "' does not apply to '" + std::string(f.name) + "' (" +
                              std::string(kind_desc(n.kind)) + "): use " +
                              std::string(ops_for(n.kind)));
    }
    i_ += op_tokens;
    const bool ordering = n.op == Op::Lt || n.op == Op::Le || n.op == Op::Gt || n.op == Op::Ge;
    const bool text_pool = n.kind == Kind::Text || n.kind == Kind::Bytes;
    n.begin = static_cast<uint32_t>(n.kind == Kind::Ip ? p_.cidrs.size()
                                    : text_pool        ? p_.strs.size()
                                                       : p_.nums.size());
    if (peek().type == Tok::LParen) {
      const size_t open = peek().pos;
      if (ordering) return fail(open, "'" + op_text + "' compares with one value, not a list");
      ++i_;
      while (true) {
        if (!parse_value(f, n.op)) return false;
        if (peek().type == Tok::Comma) {
          ++i_;
          continue;
        }
        if (peek().type == Tok::RParen) {
          ++i_;
          break;
        }
        if (peek().type == Tok::End)
          return fail(open, "unclosed '(': expected ')' to close the list");
        return unexpected("',' or ')' in the list");
      }
    } else if (!parse_value(f, n.op)) {
      return false;
    }
    n.end = static_cast<uint32_t>(n.kind == Kind::Ip ? p_.cidrs.size()
                                  : text_pool        ? p_.strs.size()
                                                     : p_.nums.size());
    if (n.kind == Kind::Code || n.kind == Kind::Error) {
      auto first = p_.nums.begin() + n.begin;
      std::sort(first, p_.nums.end());
      p_.nums.erase(std::unique(first, p_.nums.end()), p_.nums.end());
      n.end = static_cast<uint32_t>(p_.nums.size());
      // contains/startswith/endswith on names became sets of codes.
      if (n.op != Op::Ne) n.op = Op::Eq;
    }
    out = add(n);
    return true;
  }

  // The operator in front of us, and how many tokens it takes (0: there is none).
  size_t read_operator(Op& op) const {
    switch (peek().type) {
      case Tok::Eq: op = Op::Eq; return 1;
      case Tok::Ne: op = Op::Ne; return 1;
      case Tok::Lt: op = Op::Lt; return 1;
      case Tok::Le: op = Op::Le; return 1;
      case Tok::Gt: op = Op::Gt; return 1;
      case Tok::Ge: op = Op::Ge; return 1;
      default: break;
    }
    struct Word {
      std::string_view word;
      Op op;
    };
    static constexpr Word kWords[] = {{"in", Op::Eq},
                                      {"contains", Op::Contains},
                                      {"startswith", Op::StartsWith},
                                      {"endswith", Op::EndsWith}};
    for (const Word& w : kWords) {
      if (at_keyword(w.word)) {
        op = w.op;
        return 1;
      }
    }
    if (at_keyword("not") && at_keyword("in", 1)) {
      op = Op::Ne;
      return 2;
    }
    return 0;
  }

  // A field alone: "the event has it" (for `failed`, "the call failed").
  bool bare_field(const FieldSpec& f, Node& n, uint32_t& out) {
    n.op = Op::Exists;
    const Token& next = peek();
    const bool word = next.type == Tok::Word && !at_keyword("and") && !at_keyword("or");
    if (f.kind != Kind::Bool && (word || next.type == Tok::String)) {
      return fail(next.pos, "expected an operator such as '==', '<', 'in' or 'contains' after '" +
                                std::string(f.name) + "', found " + found(next));
    }
    out = add(n);
    return true;
  }

  bool parse_value(const FieldSpec& f, Op op) {
    const Token& t = peek();
    const bool usable = t.type == Tok::String || (t.type == Tok::Word && !is_keyword(t.text));
    if (!usable) {
      if (t.type == Tok::Error) return fail(t.pos, t.text);
      std::string desc(f.value_desc);
      if (f.key == Key::Raw && f.kind == Kind::Code)
        desc = "a " + std::string(table_name(field_def(f.raw).table)) + " name";
      if (f.key == Key::Raw && f.kind == Kind::Flags)
        desc = "a " + std::string(table_name(field_def(f.raw).table)) + " name";
      return unexpected(desc);
    }
    const std::string& s = t.text;
    Status st;
    uint64_t v = 0;
    switch (f.kind) {
      case Kind::Number:
        st = read_number(f, s, v);
        p_.nums.push_back(v);
        break;
      case Kind::Duration:
        st = read_duration(s, v);
        p_.nums.push_back(v);
        break;
      case Kind::Flags:
        st = read_flags(f, s, v);
        p_.nums.push_back(v);
        break;
      case Kind::Bool:
        st = read_bool(s, v);
        p_.nums.push_back(v);
        break;
      case Kind::Code: st = read_codes(f, op, s, p_.nums); break;
      case Kind::Error: st = read_errors(op, s, p_.nums); break;
      case Kind::Ip: st = read_cidr(s, p_.cidrs.emplace_back()); break;
      case Kind::Text: {
        std::string lowered = to_lower(s);
        if (f.key == Key::Host && lowered.size() > 1 && lowered.back() == '.') lowered.pop_back();
        p_.strs.push_back(std::move(lowered));
        break;
      }
      case Kind::Bytes: st = read_payload(s, t.type == Tok::String, p_.strs.emplace_back()); break;
    }
    if (!st.ok()) return fail(t.pos, st.message());
    ++i_;
    return true;
  }

  std::string_view src_;
  Program& p_;
  std::vector<Token> toks_;
  size_t i_ = 0;
  int depth_ = 0;
  size_t error_pos_ = 0;
  std::string message_;
};

}  // namespace

Status compile(std::string_view text, Program& out) {
  if (text.size() > kMaxText) {
    return Status::error("the filter is " + std::to_string(text.size()) +
                         " bytes long; filters are limited to 1 MiB");
  }
  out = Program{};
  out.text = std::string(text);
  return Parser(out.text, out).run();
}

}  // namespace ws::inspect::detail
