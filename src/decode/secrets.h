// Credentials in HTTP/1.x byte streams: the values of the Authorization, Proxy-Authorization,
// Cookie and Set-Cookie headers and the password of a URL's user:password@ part (also in a
// Host header, where some clients copy it), found in one
// direction of one connection fed call by call, so that a header cut between two sends (or
// folded onto a second line) is still found. What is found is masked byte for byte, so lengths
// (and TCP sequence numbers in exports) stay as they were. docs/decoders.md has the limits.
//
// The scan needs no HTTP framing: a secret header is a line that starts with its name (any
// case) and a colon, anywhere in the stream, bodies included — masking more rather than less.
// It shows what is not secret: the header names, an auth scheme word ("Bearer ", "Basic "),
// cookie names and Set-Cookie's attributes, the user name of a URL.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

namespace ws::decode {

// Bytes [offset, offset + size) of the payload just scanned hold a secret.
struct MaskRange {
  uint32_t offset = 0;
  uint32_t size = 0;
};

inline constexpr uint8_t kMaskByte = '*';

class SecretScanner {
 public:
  // The next bytes of the stream (what a call kept; bytes the snap length cut are not seen,
  // the stream is read as if the kept bytes followed each other). Fills `out` with the ranges
  // of `bytes` to mask (they may overlap). A URL password still open at the end of `bytes` is
  // masked already: it may turn out to be a port, but it cannot be unmasked later.
  void scan(std::span<const uint8_t> bytes, std::vector<MaskRange>& out);

 private:
  enum class Line : uint8_t { Start, Name, Colon, Value, Other };
  enum class Kind : uint8_t { None, Auth, Cookie, SetCookie, Host };
  enum class Part : uint8_t { Scheme, Secret, CookieName, CookieValue, Attributes };
  enum class Url : uint8_t { None, Colon, Slash, Lead, User, Password };

  // Returns whether byte `c` of a secret header's value is masked.
  bool value_byte(uint8_t c);
  bool scheme_byte(uint8_t c);
  void start_byte(uint8_t c);
  void name_byte(uint8_t c);
  void url_byte(uint8_t c, uint32_t i, std::vector<MaskRange>& out);
  void start_value(Kind k);

  Line line_ = Line::Start;
  Kind kind_ = Kind::None;      // the header being read (Name, Colon, Value)
  Kind folded_ = Kind::None;    // the secret header of the line before, for obs-fold
  Part part_ = Part::Scheme;
  uint8_t name_len_ = 0;        // bytes of the name matched
  uint8_t candidates_ = 0;      // bit i: kNames[i] still matches
  uint8_t scheme_len_ = 0;
  uint8_t schemes_ = 0;         // bit i: kSchemes[i] still matches
  Url url_ = Url::None;
  bool fold_lead_ = false;      // at the blanks that start a continuation line
  uint32_t password_start_ = 0;
};

// Replaces the bytes of each range with kMaskByte.
void apply_masks(std::span<uint8_t> bytes, std::span<const MaskRange> ranges);

}  // namespace ws::decode
