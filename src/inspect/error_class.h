// What an error means for a connection, whichever platform recorded it: WSAECONNRESET and
// ECONNRESET are both a reset, WSAEWOULDBLOCK and EAGAIN both "try again later".
#pragma once

#include <string_view>

#include "constants.h"

namespace ws::inspect {

enum class ErrorClass : uint8_t {
  None,        // no error
  WouldBlock,  // EAGAIN/EWOULDBLOCK/WSAEWOULDBLOCK: a non-blocking call that would have waited
  InProgress,  // EINPROGRESS/EALREADY/WSAEINPROGRESS/WSAEALREADY: a connect under way
  Pending,     // WSA_IO_PENDING/ERROR_IO_PENDING: an overlapped operation started
  Interrupted, // EINTR/WSAEINTR
  Reset,       // ECONNRESET/WSAECONNRESET: the peer reset the connection
  Aborted,     // ECONNABORTED/WSAECONNABORTED: the local stack aborted it
  PeerGone,    // EPIPE/WSAESHUTDOWN: sending after the connection was closed
  Refused,     // ECONNREFUSED/WSAECONNREFUSED: nothing listening
  TimedOut,    // ETIMEDOUT/WSAETIMEDOUT
  Unreachable, // ENETUNREACH/EHOSTUNREACH/ENETDOWN/EHOSTDOWN and their WSA twins
  Other,
};

ErrorClass classify(ErrorCode code);

// Errors that are part of normal non-blocking or overlapped operation, not failures.
inline bool is_transient(ErrorClass c) {
  return c == ErrorClass::WouldBlock || c == ErrorClass::InProgress ||
         c == ErrorClass::Pending || c == ErrorClass::Interrupted;
}

// The call was refused because its handle is no socket, or no open handle at all (ENOTSOCK,
// EBADF, WSAENOTSOCK): it tells nothing about any connection.
bool names_no_socket(ErrorCode code);

// Whether `code` is a failure: an error that is not one of those outcomes. Every count of
// failed calls (stats, info, record's summary, the report) and every red mark asks this.
inline bool is_failure(ErrorCode code) { return !code.ok() && !is_transient(classify(code)); }

// The errno-style name of an error on either platform ("ECONNRESET" for WSAECONNRESET); the
// recorded name when there is no such twin.
std::string_view posix_name(ErrorCode code);

}  // namespace ws::inspect
