#include <winsock2.h>
#include <windows.h>
#include <bcrypt.h>

#include "server_platform.h"

namespace ws::ui {

bool random_bytes(unsigned char* out, size_t n) {
  // bcrypt loaded only here: imported, every run of wstrace.exe would load it (Wine: ~20 ms).
  using GenRandom = NTSTATUS(WINAPI*)(BCRYPT_ALG_HANDLE, PUCHAR, ULONG, ULONG);
  HMODULE bcrypt = LoadLibraryW(L"bcrypt.dll");
  auto gen = bcrypt ? reinterpret_cast<GenRandom>(reinterpret_cast<void*>(
                          GetProcAddress(bcrypt, "BCryptGenRandom")))
                    : nullptr;
  return gen && gen(nullptr, out, static_cast<ULONG>(n), BCRYPT_USE_SYSTEM_PREFERRED_RNG) >= 0;
}

bool listen_alone(uintptr_t socket) {
  const BOOL one = TRUE;
  return setsockopt(static_cast<SOCKET>(socket), SOL_SOCKET, SO_EXCLUSIVEADDRUSE,
                    reinterpret_cast<const char*>(&one), sizeof one) == 0;
}

// (Console control events come to a thread of their own on Windows: nothing to block.)
std::thread quiet_thread(std::function<void()> body) { return std::thread(std::move(body)); }

}  // namespace ws::ui
