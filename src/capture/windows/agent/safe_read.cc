// The Windows agent's safe read of its own process's memory (agent/call.h). mingw has no
// __try, so ReadProcessMemory on the own process is the guarded read: it fails (no exception)
// when any byte is unreadable.
#include "agent.h"  // winsock2.h before windows.h

namespace ws::agent {

size_t safe_read(void* dst, const void* src, size_t n) {
  if (!n || !src) return 0;
  const DWORD saved = GetLastError();  // WSAGetLastError() is the same value
  SIZE_T got = 0;
  const BOOL ok = ReadProcessMemory(GetCurrentProcess(), src, dst, n, &got);
  SetLastError(saved);
  return ok && got == n ? n : 0;
}

}  // namespace ws::agent
