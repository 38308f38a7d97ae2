// The filter's tokens. Bare words are read greedily (everything up to a space, a bracket, a comma,
// a quote or an operator character), so that `10.0.0.0/8`, `::1`, `1.5s` and `client.exe` are one
// token each; the parser decides what a word means from the field it is compared with.
#include <string>
#include <string_view>
#include <vector>

#include "filter_internal.h"

namespace ws::inspect::detail {
namespace {

bool is_space(unsigned char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

bool is_control(unsigned char c) { return (c < 0x20 && !is_space(c)) || c == 0x7f; }

// Characters that end a bare word.
bool is_special(unsigned char c) {
  switch (c) {
    case '(':
    case ')':
    case ',':
    case '=':
    case '!':
    case '<':
    case '>':
    case '"':
    case '\'':
    case '&':
    case '|': return true;
    default: return false;
  }
}

bool is_word_char(unsigned char c) { return !is_space(c) && !is_control(c) && !is_special(c); }

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string hex_byte(unsigned char c) {
  static constexpr char kHex[] = "0123456789abcdef";
  return std::string("0x") + kHex[c >> 4] + kHex[c & 15];
}

class Lexer {
 public:
  explicit Lexer(std::string_view src) : src_(src) {}

  std::vector<Token> run() {
    while (true) {
      while (i_ < src_.size() && is_space(uc(i_))) ++i_;
      if (i_ == src_.size()) {
        push(Tok::End, i_, 0);
        return std::move(out_);
      }
      if (!next()) return std::move(out_);
    }
  }

 private:
  unsigned char uc(size_t i) const { return static_cast<unsigned char>(src_[i]); }
  char at(size_t i) const { return i < src_.size() ? src_[i] : '\0'; }

  void push(Tok t, size_t pos, size_t len, std::string text = {}) {
    out_.push_back(
        Token{t, static_cast<uint32_t>(pos), static_cast<uint32_t>(len), std::move(text)});
  }
  bool error(size_t pos, std::string message) {
    push(Tok::Error, pos, 1, std::move(message));
    return false;
  }

  // Reads one token at i_; false after an Error token.
  bool next() {
    const size_t start = i_;
    const char c = src_[i_];
    const char c2 = at(i_ + 1);
    auto op = [&](Tok t, size_t len) {
      push(t, start, len);
      i_ += len;
      return true;
    };
    switch (c) {
      case '(': return op(Tok::LParen, 1);
      case ')': return op(Tok::RParen, 1);
      case ',': return op(Tok::Comma, 1);
      case '=': return op(Tok::Eq, c2 == '=' ? 2 : 1);
      case '!': return c2 == '=' ? op(Tok::Ne, 2) : op(Tok::Bang, 1);
      case '<': return c2 == '=' ? op(Tok::Le, 2) : op(Tok::Lt, 1);
      case '>': return c2 == '=' ? op(Tok::Ge, 2) : op(Tok::Gt, 1);
      case '&':
        if (c2 == '&') return op(Tok::AndAnd, 2);
        return error(start, "unexpected '&': write '&&' or 'and'");
      case '|':
        if (c2 == '|') return op(Tok::OrOr, 2);
        return error(start, "unexpected '|': write '||' or 'or'");
      case '"':
      case '\'': return string(c);
      default: break;
    }
    if (is_control(uc(i_))) {
      return error(start, "unexpected control character " + hex_byte(uc(i_)) +
                              " (write it as \\x.. inside a quoted string)");
    }
    while (i_ < src_.size() && is_word_char(uc(i_))) ++i_;
    push(Tok::Word, start, i_ - start, std::string(src_.substr(start, i_ - start)));
    return true;
  }

  // A string in `quote`s, with C-like escapes.
  bool string(char quote) {
    const size_t start = i_++;
    std::string text;
    while (true) {
      if (i_ >= src_.size()) {
        return error(start, std::string("unclosed string: expected a closing ") + quote +
                                " before the end of the filter");
      }
      const char c = src_[i_];
      if (c == quote) break;
      if (c != '\\') {
        text += c;
        ++i_;
        continue;
      }
      const size_t esc = i_;
      if (i_ + 1 >= src_.size()) {  // a backslash at the very end: the string is unclosed
        i_ = src_.size();
        continue;
      }
      const char e = src_[i_ + 1];
      i_ += 2;
      switch (e) {
        case '\\': text += '\\'; break;
        case '"': text += '"'; break;
        case '\'': text += '\''; break;
        case 'n': text += '\n'; break;
        case 'r': text += '\r'; break;
        case 't': text += '\t'; break;
        case '0': text += '\0'; break;
        case 'x': {
          const int hi = hex_digit(at(i_)), lo = hex_digit(at(i_ + 1));
          if (hi < 0 || lo < 0) return error(esc, "'\\x' needs two hex digits, as in \\x0d");
          text += static_cast<char>(hi * 16 + lo);
          i_ += 2;
          break;
        }
        default: {
          const auto ue = static_cast<unsigned char>(e);
          const std::string shown = ue > 0x20 && ue < 0x7f ? std::string(1, e) : hex_byte(ue);
          return error(esc, "unknown escape '\\" + shown +
                                "' in a string: use \\\\, \\\", \\', \\n, \\r, \\t, \\0 or \\xNN");
        }
      }
    }
    ++i_;  // the closing quote
    push(Tok::String, start, i_ - start, std::move(text));
    return true;
  }

  std::string_view src_;
  size_t i_ = 0;
  std::vector<Token> out_;
};

}  // namespace

std::vector<Token> lex(std::string_view src) { return Lexer(src).run(); }

}  // namespace ws::inspect::detail
