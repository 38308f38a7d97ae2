// The parts of the filter shared by its lexer, parser, value resolvers and evaluator. Not a
// public header: use filter.h.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "event.h"
#include "filter.h"
#include "status.h"

namespace ws::inspect::detail {

// ---- Tokens ---------------------------------------------------------------------------------

enum class Tok : uint8_t {
  Word,    // a bare word: field, keyword or unquoted value ("rport", "and", "10.0.0.0/8", "1.5s")
  String,  // a quoted string; `text` holds it unescaped
  LParen,
  RParen,
  Comma,
  Eq,  // == or =
  Ne,  // !=
  Lt,
  Le,
  Gt,
  Ge,
  AndAnd,  // &&
  OrOr,    // ||
  Bang,    // !
  End,
  Error,  // the lexer stopped here; `text` is the message
};

struct Token {
  Tok type = Tok::End;
  uint32_t pos = 0;  // byte offset in the filter text
  uint32_t len = 0;  // bytes of source the token covers
  std::string text;  // Word: the word; String: the unescaped contents; Error: the message
};

// Splits `src` into tokens, closed by End, or by Error at the first character it cannot read.
std::vector<Token> lex(std::string_view src);

// ---- Fields ---------------------------------------------------------------------------------

// What a field is about: how the evaluator finds its value.
enum class Key : uint8_t {
  Pid,
  Tid,
  Proc,
  Func,
  Event,
  Sock,
  Conn,
  Family,
  Proto,
  Ip,
  Lip,
  Rip,
  Port,
  Lport,
  Rport,
  Host,
  Err,
  Failed,
  Ret,
  Dur,
  Bytes,
  Payload,
  Raw,  // a field of the event table, by its FieldId
};

// What kind of values a field has: decides its operators and how constants are read.
enum class Kind : uint8_t {
  Number,    // == != < <= > >= in
  Duration,  // like Number, constants with units
  Text,      // == != contains startswith endswith in; case-insensitive
  Code,      // names resolved to codes (functions, events, families, protocols, enums)
  Flags,     // == != contains, flag names
  Error,     // error names resolved to sets of error codes
  Ip,        // == != in, addresses and CIDR blocks
  Bytes,     // payload: == != contains startswith endswith; case-sensitive
  Bool,      // alone, or == true/false
};

struct FieldSpec {
  std::string_view name;
  Key key = Key::Raw;
  Kind kind = Kind::Number;
  FieldId raw = FieldId::Unknown;  // Key::Raw: the event table's field
  bool is_signed = false;          // Number: compared as int64
  uint64_t max = UINT64_MAX;       // Number: largest meaningful value
  std::string_view value_desc;     // "a port number", used in messages
};

// The field called `name` (any case), from the language's own fields then the event table's.
// False when there is none; `why` then says so, with a suggestion when a name is close.
bool find_field(std::string_view name, FieldSpec& out, std::string& why);
// The language's own field names, for messages and docs.
std::string field_list();

enum class Op : uint8_t { Exists, Eq, Ne, Lt, Le, Gt, Ge, Contains, StartsWith, EndsWith };
std::string_view op_name(Op op);
bool op_fits(Kind kind, Op op);
std::string_view kind_desc(Kind kind);  // "a duration"
std::string_view ops_for(Kind kind);    // "==, !=, <, <=, >, >= or in"

// ---- Constants ------------------------------------------------------------------------------

// An IP block in IPv6 form: IPv4 addresses and blocks are IPv4-mapped (::ffff:a.b.c.d, +96 bits).
struct Cidr {
  std::array<uint8_t, 16> ip{};
  uint8_t bits = 128;
  bool contains(const std::array<uint8_t, 16>& addr) const;  // addr as as_ipv6() gives it
};

inline constexpr uint64_t kProtoUnix = kFilterProtoUnix;

// Each reads one constant written after `op` for the field and appends what it stands for.
// The Status message is the text after the caret ("expected a duration such as 50ms, found …").
Status read_number(const FieldSpec& f, std::string_view s, uint64_t& out);
Status read_duration(std::string_view s, uint64_t& out);
Status read_cidr(std::string_view s, Cidr& out);
Status read_codes(const FieldSpec& f, Op op, std::string_view s, std::vector<uint64_t>& out);
Status read_flags(const FieldSpec& f, std::string_view s, uint64_t& out);
Status read_errors(Op op, std::string_view s, std::vector<uint64_t>& out);
Status read_bool(std::string_view s, uint64_t& out);
// Payload constants are text, except an unquoted 0x word: the bytes it spells (0x160301).
Status read_payload(std::string_view s, bool quoted, std::string& out);

// The names a code or flags field's values may be written as; `noun` says what they are
// ("function", "socket type").
std::vector<FilterName> names_of(const FieldSpec& f, std::string& noun);

// The candidate closest to `word` (ignoring case) when it is close enough to be a likely typo;
// empty otherwise.
std::string_view closest(std::string_view word, const std::vector<std::string_view>& candidates);

// ASCII case helpers: filters compare names case-insensitively, without allocating.
char lower(char c);
bool ieq(std::string_view a, std::string_view b);
bool istarts(std::string_view s, std::string_view prefix);
bool iends(std::string_view s, std::string_view suffix);
bool icontains(std::string_view s, std::string_view needle);
std::string to_lower(std::string_view s);

// ---- What an event says beyond its own fields (filter_facts() gathers them) ------------------

bool family_of(const Event& ev, const FilterContext& ctx, uint64_t& out);
uint64_t proto_of(const Event& ev, const FilterContext& ctx);  // 0 = unknown
// The socket the call used, the one it created, or both: returns how many (at most 2).
size_t sockets_of(const Event& ev, uint64_t (&v)[2]);
std::string_view host_of(const Event& ev, const FilterContext& ctx);  // "" = unknown
std::string_view proc_of(const Event& ev, const FilterContext& ctx);  // "" = unknown

// ---- The compiled filter --------------------------------------------------------------------

enum class NodeType : uint8_t { And, Or, Not, Test };

struct Node {
  NodeType type = NodeType::Test;
  Key key = Key::Raw;
  Kind kind = Kind::Number;
  Op op = Op::Exists;
  FieldId raw = FieldId::Unknown;
  bool is_signed = false;
  uint8_t cost = 0;  // rough price of evaluating it: cheaper children of and/or go first
  // And/Or/Not: children in Program::kids. Test: constants in the pool of its kind (nums for
  // Number/Duration/Code/Flags/Error/Bool, strs for Text/Bytes, cidrs for Ip); Code and Error
  // ranges are sorted.
  uint32_t begin = 0;
  uint32_t end = 0;
};

struct Program {
  std::string text;
  std::vector<Node> nodes;
  std::vector<uint32_t> kids;
  std::vector<uint64_t> nums;
  std::vector<std::string> strs;  // Text constants in lower case; Bytes constants as written
  std::vector<Cidr> cidrs;
  uint32_t root = 0;
};

// Parses `text` into `out`; on error the Status holds the two-line caret message.
Status compile(std::string_view text, Program& out);
// The event against the compiled program.
bool evaluate(const Program& p, const Event& ev, const FilterContext& ctx);

}  // namespace ws::inspect::detail
