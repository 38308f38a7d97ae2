// `wstrace.exe record`: start the program suspended, load the agent DLL into it, let it run,
// and drain the agent's rings until it exits.
#include <winsock2.h>
#include <windows.h>

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "collector_core.h"
#include "engines.h"
#include "live_capture.h"
#include "record.h"
#include "translate.h"
#include "win_error.h"
#include "writer.h"

namespace ws::capture {
namespace {

int64_t qpc_ns() {
  static const int64_t freq = [] {
    LARGE_INTEGER f;
    QueryPerformanceFrequency(&f);
    return f.QuadPart;
  }();
  LARGE_INTEGER c;
  QueryPerformanceCounter(&c);
  return c.QuadPart / freq * 1'000'000'000 + c.QuadPart % freq * 1'000'000'000 / freq;
}

// Strings are UTF-8 inside wstrace (main() reads the command line as UTF-16 and converts it):
// every path reaches the system through the W functions, whatever the code page.
std::wstring widen(const std::string& s) {
  int n = MultiByteToWideChar(CP_UTF8, 0, s.data(), static_cast<int>(s.size()), nullptr, 0);
  std::wstring w(static_cast<size_t>(n), L'\0');
  MultiByteToWideChar(CP_UTF8, 0, s.data(), static_cast<int>(s.size()), w.data(), n);
  return w;
}

std::string narrow(const std::wstring& w) {
  int n = WideCharToMultiByte(CP_UTF8, 0, w.data(), static_cast<int>(w.size()), nullptr, 0,
                              nullptr, nullptr);
  std::string s(static_cast<size_t>(n), '\0');
  WideCharToMultiByte(CP_UTF8, 0, w.data(), static_cast<int>(w.size()), s.data(), n, nullptr,
                      nullptr);
  return s;
}

// One argument quoted the way CommandLineToArgvW and the C runtime read it back.
std::wstring quote_arg(const std::wstring& a) {
  if (!a.empty() && a.find_first_of(L" \t\n\v\"") == std::wstring::npos) return a;
  std::wstring q = L"\"";
  for (size_t i = 0;; ++i) {
    size_t backslashes = 0;
    while (i < a.size() && a[i] == L'\\') ++i, ++backslashes;
    if (i == a.size()) {
      q.append(backslashes * 2, L'\\');
      break;
    }
    if (a[i] == L'"') q.append(backslashes * 2 + 1, L'\\');
    else q.append(backslashes, L'\\');
    q += a[i];
  }
  return q + L"\"";
}

// Finds the program like CreateProcess would (adding .exe), and checks it is a 64-bit PE.
RecordError find_program(const std::string& program, std::wstring& path) {
  wchar_t buf[MAX_PATH * 4];
  DWORD n = SearchPathW(nullptr, widen(program).c_str(), L".exe", MAX_PATH * 4, buf, nullptr);
  if (n == 0 || n >= MAX_PATH * 4) return {127, fmt::format("{}: program not found", program)};
  path.assign(buf, n);
  HANDLE f = CreateFileW(path.c_str(), GENERIC_READ, FILE_SHARE_READ, nullptr, OPEN_EXISTING, 0,
                         nullptr);
  if (f == INVALID_HANDLE_VALUE)
    return {126, fmt::format("{}: {}", narrow(path), trace::win_error_text(GetLastError()))};
  IMAGE_DOS_HEADER dos{};
  IMAGE_NT_HEADERS64 nt{};
  DWORD got = 0;
  bool pe = ReadFile(f, &dos, sizeof dos, &got, nullptr) && got == sizeof dos &&
            dos.e_magic == IMAGE_DOS_SIGNATURE &&
            SetFilePointer(f, dos.e_lfanew, nullptr, FILE_BEGIN) != INVALID_SET_FILE_POINTER &&
            ReadFile(f, &nt, sizeof nt, &got, nullptr) && got == sizeof nt &&
            nt.Signature == IMAGE_NT_SIGNATURE;
  CloseHandle(f);
  if (!pe) return {126, fmt::format("{} is not a Windows program (no PE header)", narrow(path))};
  if (nt.FileHeader.Machine != IMAGE_FILE_MACHINE_AMD64)
    return {1, fmt::format("{} is not a 64-bit x86 program: this wstrace traces 64-bit programs "
                           "only (32-bit programs are planned)",
                           narrow(path))};
  return {0, ""};
}

std::string default_output() {
  SYSTEMTIME t;
  GetLocalTime(&t);
  return fmt::format("wstrace-{:04}{:02}{:02}-{:02}{:02}{:02}.wst", t.wYear, t.wMonth, t.wDay,
                     t.wHour, t.wMinute, t.wSecond);
}

trace::TraceHeader make_header(const RecordOptions& opt) {
  trace::TraceHeader h;
  wchar_t host[256];
  DWORD n = 256;
  h.wstrace_version = kBuildId;
  if (GetComputerNameW(host, &n)) h.host = narrow(std::wstring(host, n));
  using RtlGetVersionFn = LONG(WINAPI*)(OSVERSIONINFOW*);
  auto rtl = reinterpret_cast<RtlGetVersionFn>(reinterpret_cast<void*>(
      GetProcAddress(GetModuleHandleW(L"ntdll.dll"), "RtlGetVersion")));
  OSVERSIONINFOW v{};
  v.dwOSVersionInfoSize = sizeof v;
  if (rtl && rtl(&v) == 0)
    h.os = fmt::format("Windows {}.{}.{}", v.dwMajorVersion, v.dwMinorVersion, v.dwBuildNumber);
  else
    h.os = "Windows";
  h.platform = Platform::Windows;
  h.arch = "x86_64";
  for (const auto& a : opt.argv) h.command += (h.command.empty() ? "" : " ") + a;
  h.snaplen = opt.snaplen;
  h.redacted = opt.redact;
  h.follow_children = opt.follow;
  h.engine = "preload";  // (the agent DLL: `record --engine preload`)
  h.mono_anchor_ns = qpc_ns();
  FILETIME ft;
  GetSystemTimePreciseAsFileTime(&ft);
  int64_t since_1601 = static_cast<int64_t>(static_cast<uint64_t>(ft.dwHighDateTime) << 32 |
                                            ft.dwLowDateTime);
  h.wall_anchor_ns = (since_1601 - 116'444'736'000'000'000) * 100;
  return h;
}

// Loads the agent into the suspended process with a thread of its own that runs LoadLibraryW.
RecordError inject(HANDLE process, const std::wstring& dll) {
  size_t bytes = (dll.size() + 1) * sizeof(wchar_t);
  void* remote = VirtualAllocEx(process, nullptr, bytes, MEM_COMMIT | MEM_RESERVE, PAGE_READWRITE);
  if (!remote || !WriteProcessMemory(process, remote, dll.c_str(), bytes, nullptr))
    return {1, fmt::format("cannot write into the program: {}", trace::win_error_text(GetLastError()))};
  auto load = reinterpret_cast<LPTHREAD_START_ROUTINE>(reinterpret_cast<void*>(
      GetProcAddress(GetModuleHandleW(L"kernel32.dll"), "LoadLibraryW")));
  HANDLE t = CreateRemoteThread(process, nullptr, 0, load, remote, 0, nullptr);
  if (!t) return {1, fmt::format("cannot start the agent in the program: {}", trace::win_error_text(GetLastError()))};
  DWORD waited = WaitForSingleObject(t, 30'000);
  DWORD loaded = 0;
  GetExitCodeThread(t, &loaded);
  CloseHandle(t);
  VirtualFreeEx(process, remote, 0, MEM_RELEASE);
  if (waited != WAIT_OBJECT_0 || loaded == 0)
    return {1, fmt::format("the agent {} did not load into the program", narrow(dll))};
  return {0, ""};
}

volatile LONG g_stop = 0;
BOOL WINAPI on_console_event(DWORD) {
  InterlockedExchange(&g_stop, 1);
  return TRUE;  // wstrace stops collecting; the traced program gets the event as usual
}

// A region name a neighbour cannot guess (and so cannot create first).
std::wstring random_region_name() {
  unsigned a = 0, b = 0;
  if (rand_s(&a) != 0 || rand_s(&b) != 0) a ^= GetTickCount(), b ^= GetCurrentThreadId();
  return widen(fmt::format("Local\\wstrace-{}-{:08x}{:08x}", GetCurrentProcessId(), a, b));
}

// Shared memory for the rings: `name` is how the agents find it; one that exists already is not
// used (someone else made it). The whole section is committed at creation (no SEC_RESERVE): a
// shortage of memory shows here, and is met with fewer or smaller rings (said in `warning`).
RecordError create_region(const RecordOptions& opt, const std::wstring& name, HANDLE& mapping,
                          RegionHeader*& region, RingGeometry& geometry, std::string& warning,
                          bool& existed) {
  existed = false;
  const RingGeometry want{opt.slots < 64 ? opt.slots : 64, opt.ring_bytes};
  const uint64_t min_ring = want.ring_bytes < kMinShrunkRing ? want.ring_bytes : kMinShrunkRing;
  geometry = want;
  for (;;) {
    const uint64_t size = geometry.region_bytes();
    mapping = CreateFileMappingW(INVALID_HANDLE_VALUE, nullptr, PAGE_READWRITE,
                                 static_cast<DWORD>(size >> 32), static_cast<DWORD>(size),
                                 name.c_str());
    const DWORD e = GetLastError();
    if (mapping && e == ERROR_ALREADY_EXISTS) {
      CloseHandle(mapping);
      existed = true;
      return {1, fmt::format("cannot create shared memory {}: it exists already", narrow(name))};
    }
    if (mapping) break;
    const bool short_of_memory = e == ERROR_NOT_ENOUGH_MEMORY || e == ERROR_COMMITMENT_LIMIT ||
                                 e == ERROR_OUTOFMEMORY || e == ERROR_DISK_FULL;
    if (!short_of_memory || !shrink_geometry(geometry, min_ring))
      return {1, fmt::format("cannot create shared memory: {}", trace::win_error_text(e))};
  }
  if (geometry.slots != want.slots || geometry.ring_bytes != want.ring_bytes)
    warning = shrunk_warning(want, geometry, "not enough memory for the rings");
  void* view = MapViewOfFile(mapping, FILE_MAP_ALL_ACCESS, 0, 0, 0);
  if (!view) {
    CloseHandle(mapping);
    return {1, fmt::format("cannot map shared memory: {}", trace::win_error_text(GetLastError()))};
  }
  init_region(view, geometry, opt.snaplen, opt.follow, 0, opt.tcp_info_ms);
  region = static_cast<RegionHeader*>(view);
  return {0, ""};
}


// The preload engine of Windows: the agent DLL loaded into the program (started suspended, or
// running: attach), its rings drained until the program and every traced process it started
// have ended, or Ctrl+C (then the agents are told to go quiet and the processes run on).
class PreloadEngine final : public LiveCapture {
 public:
  explicit PreloadEngine(const RecordOptions& opt) : opt_(opt) {}
  ~PreloadEngine() override;
  // Starts opt.argv suspended with the agent in it, then lets it run.
  RecordError launch(std::string& warning);
  // Loads the agent into running process `pid`.
  RecordError attach(uint32_t pid);

 private:
  // The trace file and its header; `argv` names what is traced.
  RecordError create_output(const RecordOptions& named);
  // Starts collecting from process `root` (the engine owns `root_handle`).
  void collect(DWORD root, HANDLE root_handle);
  bool step() override;
  void catch_up() override { collector_->drain(); }
  // Opens the processes the agents followed, and notes those that ended.
  void watch_children();
  // Waits up to `ms` for a watched process to end: false when none did (then reap() would
  // find nothing).
  bool nap(DWORD ms);
  void reap();
  // The last drain, exits nobody recorded (unless detached), the file closed.
  void finish();

  RecordOptions opt_;
  std::unique_ptr<trace::TraceWriter> writer_;
  HANDLE mapping_ = nullptr;
  RegionHeader* region_ = nullptr;
  RingGeometry geometry_;
  std::unique_ptr<RingCollector> collector_;
  DWORD root_ = 0;
  HANDLE root_handle_ = nullptr;
  std::vector<std::pair<uint32_t, HANDLE>> watched_;
  bool root_done_ = false, maybe_ended_ = true;
  static constexpr DWORD kNapMs = 5;
};

PreloadEngine::~PreloadEngine() {
  for (auto& w : watched_)
    if (w.second != root_handle_) CloseHandle(w.second);
  collector_.reset();
  if (root_handle_) CloseHandle(root_handle_);
  if (region_) UnmapViewOfFile(region_);
  if (mapping_) CloseHandle(mapping_);
}

RecordError PreloadEngine::create_output(const RecordOptions& named) {
  summary_.output = opt_.output.empty() ? default_output() : opt_.output;
  header_ = make_header(named);
  auto writer = trace::TraceWriter::create(summary_.output, header_);
  if (!writer.ok()) return {1, writer.status().message()};
  writer_ = std::move(writer.value());
  return {0, ""};
}

RecordError PreloadEngine::attach(uint32_t pid) {
  HANDLE process = OpenProcess(PROCESS_CREATE_THREAD | PROCESS_QUERY_INFORMATION |
                                   PROCESS_VM_OPERATION | PROCESS_VM_WRITE | PROCESS_VM_READ |
                                   SYNCHRONIZE,
                               FALSE, pid);
  if (!process) {
    DWORD e = GetLastError();
    if (e == ERROR_ACCESS_DENIED)
      return {1, fmt::format("access denied to process {}: run wstrace as the user that owns it, "
                             "or elevated",
                             pid)};
    return {1, fmt::format("no process with id {} ({})", pid, trace::win_error_text(e))};
  }
  root_handle_ = process;
  std::wstring dll = widen(opt_.agent_path);
  RecordOptions named = opt_;
  named.argv = {fmt::format("attach {}", pid)};
  if (RecordError e = create_output(named); e.exit_code) return e;
  std::string warning;  // (attach prints no warnings yet)
  bool existed = false;  // (the agent finds this name by its pid: it cannot be random yet)
  std::wstring name = widen(fmt::format("Local\\wstrace-attach-{}", pid));
  if (RecordError e = create_region(opt_, name, mapping_, region_, geometry_, warning, existed);
      e.exit_code)
    return e;
  region_->root_pid = pid;
  // The agent sets this once its hooks are all in and the sockets the program has are recorded
  // (it does so in a thread of its own, after the loader lock): the attach is complete then.
  HANDLE ready = CreateEventW(nullptr, TRUE, FALSE,
                              widen(fmt::format("Local\\wstrace-ready-{}", pid)).c_str());
  if (RecordError e = inject(process, dll); e.exit_code) {
    if (ready) CloseHandle(ready);
    return e;
  }
  if (std::string theirs = refused_by(region_); !theirs.empty()) {
    if (ready) CloseHandle(ready);  // (the agent stays in, inert)
    return {1, other_build_message(opt_.agent_path, theirs)};
  }
  if (ready) {
    WaitForSingleObject(ready, 30'000);  // (bounded: an agent that never says so is still in)
    CloseHandle(ready);
  }
  summary_.rings = geometry_.slots;
  collect(pid, process);
  return {0, ""};
}

RecordError PreloadEngine::launch(std::string& warning) {
  const RecordOptions& opt = opt_;
  if (opt.argv.empty())
    return {2, "record needs a program to run: wstrace record -- PROGRAM [ARGS…]"};
  std::wstring path;
  if (RecordError e = find_program(opt.argv[0], path); e.exit_code) return e;
  std::wstring dll = widen(opt.agent_path);
  if (GetFileAttributesW(dll.c_str()) == INVALID_FILE_ATTRIBUTES)
    return {1, fmt::format("the agent {} is missing (wstrace.exe looks for it beside itself): "
                           "unpack the whole archive again, or rebuild",
                           opt.agent_path)};
  if (RecordError e = create_output(opt); e.exit_code) return e;

  // Shared memory for the rings, found by the agent through WSTRACE_SHM.
  std::wstring name;
  RecordError made{1, ""};
  bool existed = true;
  for (int attempt = 0; attempt < 8 && made.exit_code && existed; ++attempt) {
    name = random_region_name();
    made = create_region(opt, name, mapping_, region_, geometry_, warning, existed);
  }
  if (made.exit_code) return made;
  if (!warning.empty() && opt.on_warning) {
    opt.on_warning(warning);
    warning.clear();
  }
  summary_.rings = geometry_.slots;
  SetEnvironmentVariableW(L"WSTRACE_SHM", name.c_str());

  std::wstring cmdline;
  for (const auto& a : opt.argv) cmdline += (cmdline.empty() ? L"" : L" ") + quote_arg(widen(a));
  STARTUPINFOW si{};
  si.cb = sizeof si;
  PROCESS_INFORMATION pi{};
  if (!CreateProcessW(path.c_str(), cmdline.data(), nullptr, nullptr, TRUE, CREATE_SUSPENDED,
                      nullptr, nullptr, &si, &pi)) {
    DWORD e = GetLastError();
    writer_.reset();  // (closes the file, so that it can be deleted)
    DeleteFileW(widen(summary_.output).c_str());
    return {126, fmt::format("cannot run {}: {}", narrow(path), trace::win_error_text(e))};
  }
  root_handle_ = pi.hProcess;
  region_->root_pid = pi.dwProcessId;
  RecordError injected = inject(pi.hProcess, dll);
  // An agent of another build read the region in its DllMain, and said so: nothing would be
  // recorded, so the program does not run.
  if (std::string theirs = refused_by(region_); !injected.exit_code && !theirs.empty())
    injected = {1, other_build_message(opt.agent_path, theirs)};
  if (injected.exit_code) {
    TerminateProcess(pi.hProcess, 1);
    CloseHandle(pi.hThread);
    writer_.reset();  // (nothing ran: no file is left)
    DeleteFileW(widen(summary_.output).c_str());
    return injected;
  }
  ResumeThread(pi.hThread);
  CloseHandle(pi.hThread);
  collect(pi.dwProcessId, pi.hProcess);
  return {0, ""};
}

void PreloadEngine::collect(DWORD root, HANDLE root_handle) {
  SetConsoleCtrlHandler(on_console_event, TRUE);
  root_ = root;
  collector_ = std::make_unique<RingCollector>(opt_, region_, geometry_, *writer_, summary_,
                                               translate_windows_record, qpc_ns,
                                               [this](const Event& ev) { take(ev); });
  watched_ = {{root, root_handle}};
}

bool PreloadEngine::step() {
  if (g_stop) {
    finish();
    return false;
  }
  const double fullest = collector_->drain();
  watch_children();  // (before reaping: a child seen only now is opened while its parent lives)
  if (maybe_ended_) reap();
  if (root_done_ && watched_.empty()) {
    finish();
    return false;
  }
  // Rings hold ~10k records per thread: a nap of a few milliseconds between drains keeps up
  // with busy programs, and a ring filling up is drained again at once. (A longer nap while the
  // rings stay empty would cost less, but a child that starts and ends within it, its parent
  // holding no handle to it by then, could no longer be opened: its exit code would be lost.)
  maybe_ended_ = nap(fullest < 0.25 ? kNapMs : 0);
  return true;
}

bool PreloadEngine::nap(DWORD ms) {
  // One wait for all of them: under Wine each wait is a round trip to the wineserver, and a
  // wait of its own for each process, even with no timeout, would cost as much again.
  if (watched_.size() > MAXIMUM_WAIT_OBJECTS) {
    if (ms) Sleep(ms);
    return true;
  }
  HANDLE handles[MAXIMUM_WAIT_OBJECTS];
  for (size_t i = 0; i < watched_.size(); ++i) handles[i] = watched_[i].second;
  return WaitForMultipleObjects(static_cast<DWORD>(watched_.size()), handles, FALSE, ms) !=
         WAIT_TIMEOUT;
}

void PreloadEngine::watch_children() {
  for (uint32_t pid : collector_->running()) {
    bool known = false;
    for (const auto& w : watched_) known |= w.first == pid;
    if (known) continue;
    HANDLE h = OpenProcess(SYNCHRONIZE | PROCESS_QUERY_LIMITED_INFORMATION, FALSE, pid);
    if (h) watched_.emplace_back(pid, h);
  }
}

void PreloadEngine::reap() {
  for (size_t i = 0; i < watched_.size();) {
    if (WaitForSingleObject(watched_[i].second, 0) != WAIT_OBJECT_0) {
      ++i;
      continue;
    }
    DWORD code = 0;
    GetExitCodeProcess(watched_[i].second, &code);
    collector_->process_ended(watched_[i].first, static_cast<int>(code));
    if (watched_[i].first == root_) {
      summary_.exit_status = static_cast<int>(code);
      root_done_ = true;
    }
    if (watched_[i].second != root_handle_) CloseHandle(watched_[i].second);
    watched_.erase(watched_.begin() + static_cast<std::ptrdiff_t>(i));
  }
}

void PreloadEngine::finish() {
  if (g_stop) {  // detach: the agents go quiet and take their body hooks out
    region_->collector_alive.store(0, std::memory_order_release);
    for (const auto& w : watched_) {
      std::wstring name = widen(fmt::format("Local\\wstrace-detach-{}", w.first));
      if (HANDLE ev = OpenEventW(EVENT_MODIFY_STATE, FALSE, name.c_str())) {
        SetEvent(ev);
        CloseHandle(ev);
      }
    }
  }
  collector_->drain();
  if (!g_stop) collector_->close_unended();
  collector_->flush();
  summary_.problem = collector_->problem();
  if (summary_.problem.empty()) {
    if (Status s = writer_->close(qpc_ns()); !s.ok()) summary_.problem = s.message();
  }
}

RecordError record_preload(const RecordOptions& opt, std::unique_ptr<LiveEngine>& out,
                           std::string& warning) {
  auto engine = std::make_unique<PreloadEngine>(opt);
  RecordError err = engine->launch(warning);
  if (!err.exit_code) out = std::move(engine);
  return err;
}

RecordError attach_preload(const RecordOptions& opt, std::unique_ptr<LiveEngine>& out) {
  if (opt.pids.size() != 1)
    return {2, "attach takes one process on Windows: run one wstrace attach for each"};
  auto engine = std::make_unique<PreloadEngine>(opt);
  RecordError err = engine->attach(opt.pids[0]);
  if (!err.exit_code) out = std::move(engine);
  return err;
}

constexpr EngineEntry kEngines[] = {{"preload", record_preload, attach_preload, nullptr}};

}  // namespace

std::span<const EngineEntry> platform_engines() { return kEngines; }

const EngineEntry& platform_auto_engine(const RecordOptions&, std::string&) { return kEngines[0]; }

}  // namespace ws::capture
