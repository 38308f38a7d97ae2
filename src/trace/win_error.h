// Windows only (defined in file_windows.cc): the system's text for a GetLastError() code,
// without the trailing period and newline, for messages that name the problem.
#pragma once

#include <string>

namespace ws::trace {

std::string win_error_text(unsigned long code);

}  // namespace ws::trace
