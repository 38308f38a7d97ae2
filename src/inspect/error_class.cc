#include "error_class.h"

#include <utility>

namespace ws::inspect {

std::string_view posix_name(ErrorCode code) {
  const ErrorInfo* info = find_error(code);
  if (info == nullptr) return {};
  if (code.domain == ErrDomain::Win && !info->posix.empty() && info->posix != "-")
    return info->posix;
  return info->name;
}

bool names_no_socket(ErrorCode code) {
  if (code.ok()) return false;
  const std::string_view name = posix_name(code);
  return name == "ENOTSOCK" || name == "EBADF";
}

ErrorClass classify(ErrorCode code) {
  if (code.ok()) return ErrorClass::None;
  if (code.domain == ErrDomain::Win && code.value == errcode::kWsaIoPending.value)
    return ErrorClass::Pending;
  if (code.domain != ErrDomain::Errno && code.domain != ErrDomain::Win) return ErrorClass::Other;
  // One entry per errno-style name; Windows errors reach them through their POSIX twin.
  static constexpr std::pair<std::string_view, ErrorClass> kNames[] = {
      {"EAGAIN", ErrorClass::WouldBlock},      {"EWOULDBLOCK", ErrorClass::WouldBlock},
      {"EINPROGRESS", ErrorClass::InProgress}, {"EALREADY", ErrorClass::InProgress},
      {"EINTR", ErrorClass::Interrupted},      {"ECONNRESET", ErrorClass::Reset},
      {"ECONNABORTED", ErrorClass::Aborted},   {"EPIPE", ErrorClass::PeerGone},
      {"ESHUTDOWN", ErrorClass::PeerGone},     {"ECONNREFUSED", ErrorClass::Refused},
      {"ETIMEDOUT", ErrorClass::TimedOut},     {"ENETUNREACH", ErrorClass::Unreachable},
      {"EHOSTUNREACH", ErrorClass::Unreachable}, {"ENETDOWN", ErrorClass::Unreachable},
      {"EHOSTDOWN", ErrorClass::Unreachable},
  };
  // Busy loops on EAGAIN ask about the same code again and again.
  static thread_local ErrorCode last_code;
  static thread_local ErrorClass last_class = ErrorClass::None;
  if (code == last_code) return last_class;
  const std::string_view name = posix_name(code);
  ErrorClass c = ErrorClass::Other;
  for (const auto& [n, cls] : kNames)
    if (n == name) c = cls;
  last_code = code;
  last_class = c;
  return c;
}

}  // namespace ws::inspect
