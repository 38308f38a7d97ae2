// The kernel32 functions the Windows agent hooks (agent.h); also read by the decoder's test,
// which checks the prologues of these functions, so it names no Windows header of its own.
#pragma once

// kernel32 functions hooked for completions, waits and thread names: WS_KERNEL(name, ret, params)
#define WS_KERNEL_HOOKS(X)                                                                       \
  X(GetQueuedCompletionStatus, BOOL, (HANDLE, LPDWORD, PULONG_PTR, LPOVERLAPPED*, DWORD))        \
  X(GetQueuedCompletionStatusEx, BOOL, (HANDLE, LPOVERLAPPED_ENTRY, ULONG, PULONG, DWORD, BOOL)) \
  X(GetOverlappedResult, BOOL, (HANDLE, LPOVERLAPPED, LPDWORD, BOOL))                            \
  X(CreateIoCompletionPort, HANDLE, (HANDLE, HANDLE, ULONG_PTR, DWORD))                          \
  X(WaitForSingleObject, DWORD, (HANDLE, DWORD))                                                 \
  X(WaitForSingleObjectEx, DWORD, (HANDLE, DWORD, BOOL))                                         \
  X(WaitForMultipleObjects, DWORD, (DWORD, const HANDLE*, BOOL, DWORD))                          \
  X(WaitForMultipleObjectsEx, DWORD, (DWORD, const HANDLE*, BOOL, DWORD, BOOL))                  \
  X(SetThreadDescription, HRESULT, (HANDLE, PCWSTR))                                             \
  X(SignalObjectAndWait, DWORD, (HANDLE, HANDLE, DWORD, BOOL))                                   \
  X(PostQueuedCompletionStatus, BOOL, (HANDLE, DWORD, ULONG_PTR, LPOVERLAPPED))
