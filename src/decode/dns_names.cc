// Mnemonics of DNS types, classes, rcodes and opcodes (IANA "Domain Name System (DNS)
// Parameters" registry).
#include <algorithm>
#include <charconv>
#include <string>

#include "bytes.h"
#include "dns.h"

namespace ws::decode {
namespace {

struct Mnemonic {
  uint16_t value;
  std::string_view name;
};

constexpr Mnemonic kTypes[] = {
    {1, "A"},           {2, "NS"},          {5, "CNAME"},   {6, "SOA"},     {7, "MB"},
    {8, "MG"},          {9, "MR"},          {10, "NULL"},   {11, "WKS"},    {12, "PTR"},
    {13, "HINFO"},      {14, "MINFO"},      {15, "MX"},     {16, "TXT"},    {17, "RP"},
    {18, "AFSDB"},      {24, "SIG"},        {25, "KEY"},    {28, "AAAA"},   {29, "LOC"},
    {33, "SRV"},        {35, "NAPTR"},      {36, "KX"},     {37, "CERT"},   {39, "DNAME"},
    {41, "OPT"},        {42, "APL"},        {43, "DS"},     {44, "SSHFP"},  {45, "IPSECKEY"},
    {46, "RRSIG"},      {47, "NSEC"},       {48, "DNSKEY"}, {49, "DHCID"},  {50, "NSEC3"},
    {51, "NSEC3PARAM"}, {52, "TLSA"},       {53, "SMIMEA"}, {55, "HIP"},    {59, "CDS"},
    {60, "CDNSKEY"},    {61, "OPENPGPKEY"}, {62, "CSYNC"},  {63, "ZONEMD"}, {64, "SVCB"},
    {65, "HTTPS"},      {99, "SPF"},        {249, "TKEY"},  {250, "TSIG"},  {251, "IXFR"},
    {252, "AXFR"},      {253, "MAILB"},     {254, "MAILA"}, {255, "ANY"},   {256, "URI"},
    {257, "CAA"},
};

constexpr Mnemonic kClasses[] = {{1, "IN"}, {3, "CH"}, {4, "HS"}, {254, "NONE"}, {255, "ANY"}};

constexpr Mnemonic kRcodes[] = {
    {0, "NOERROR"},  {1, "FORMERR"},    {2, "SERVFAIL"}, {3, "NXDOMAIN"},  {4, "NOTIMP"},
    {5, "REFUSED"},  {6, "YXDOMAIN"},   {7, "YXRRSET"},  {8, "NXRRSET"},   {9, "NOTAUTH"},
    {10, "NOTZONE"}, {11, "DSOTYPENI"}, {16, "BADVERS"}, {17, "BADKEY"},   {18, "BADTIME"},
    {19, "BADMODE"}, {20, "BADNAME"},   {21, "BADALG"},  {22, "BADTRUNC"}, {23, "BADCOOKIE"},
};

constexpr Mnemonic kOpcodes[] = {{0, "QUERY"},  {1, "IQUERY"}, {2, "STATUS"},
                                 {4, "NOTIFY"}, {5, "UPDATE"}, {6, "DSO"}};

template <size_t N>
std::string name_of(const Mnemonic (&table)[N], uint16_t value, std::string_view prefix) {
  for (const Mnemonic& m : table)
    if (m.value == value) return std::string(m.name);
  return std::string(prefix) + std::to_string(value);
}

}  // namespace

std::string dns_type_name(uint16_t type) { return name_of(kTypes, type, "TYPE"); }
std::string dns_class_name(uint16_t klass) { return name_of(kClasses, klass, "CLASS"); }
std::string dns_rcode_name(uint16_t rcode) { return name_of(kRcodes, rcode, "RCODE"); }
std::string dns_opcode_name(uint8_t opcode) { return name_of(kOpcodes, opcode, "OPCODE"); }

std::optional<uint16_t> dns_type_from_name(std::string_view name) {
  for (const Mnemonic& m : kTypes)
    if (detail::ascii_iequal(m.name, name)) return m.value;
  if (name.size() > 4 && detail::ascii_iequal(name.substr(0, 4), "TYPE")) {
    const std::string_view digits = name.substr(4);
    unsigned value = 0;
    auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
    if (ec == std::errc() && end == digits.data() + digits.size() && value <= 0xffff)
      return static_cast<uint16_t>(value);
  }
  return std::nullopt;
}

}  // namespace ws::decode
