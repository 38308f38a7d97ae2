// What the live view's server needs from the operating system, one file per platform
// (server_platform_posix.cc, server_platform_windows.cc).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <thread>

namespace ws::ui {

// `n` bytes from the system's CSPRNG (getrandom; BCryptGenRandom); false when it gave none.
bool random_bytes(unsigned char* out, size_t n);
// Makes a listening socket (a native handle, not yet bound) one that no other socket may bind
// to its address meanwhile, and that binds again at once to a port just left (SO_REUSEADDR on
// POSIX, where it allows no sharing; SO_EXCLUSIVEADDRUSE on Windows, where SO_REUSEADDR would).
bool listen_alone(uintptr_t socket);
// A thread running `body` that takes no signals (Ctrl+C stays with the main thread).
std::thread quiet_thread(std::function<void()> body);

}  // namespace ws::ui
