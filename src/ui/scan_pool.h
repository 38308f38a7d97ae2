// Where the live view's server reads older calls (`GET /calls`), away from its connections'
// thread: a few worker threads, each reading one trace at a time, so that event streams and
// other requests go on meanwhile. Each scan belongs to a page (a key it sends); a page's newer
// scan cancels its older one, waiting or running (the older one's work sees its flag and stops
// early); at most `max_waiting` scans wait for a thread, beyond that a scan is refused.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace ws::ui {

class ScanPool {
 public:
  // The scan itself: reads, checking `cancelled` now and then, and returns the answer.
  using Work = std::function<std::string(const std::atomic<bool>& cancelled)>;
  // Called with the answer on the worker's thread (the server posts it to the connection).
  using Done = std::function<void(std::string answer)>;

  ScanPool(size_t threads, size_t max_waiting);
  ~ScanPool();  // stop()
  ScanPool(const ScanPool&) = delete;
  ScanPool& operator=(const ScanPool&) = delete;

  // Queues `work` for page `page` ("" = a page of none: cancels nothing, is cancelled by none);
  // cancels the page's earlier scan. False (and nothing is called) when `max_waiting` scans
  // already wait for a thread or the pool is stopped; else `done` is called once, with what the
  // work returned (a cancelled work runs all the same, with its flag set: it says so quickly).
  bool submit(const std::string& page, Work work, Done done);
  // Cancels every scan, waits for the running ones to end and for the threads.
  void stop();
  // Scans running and waiting now.
  size_t busy() const;

 private:
  struct Scan {
    std::string page;
    Work work;
    Done done;
    std::atomic<bool> cancelled{false};
  };
  void serve();

  const size_t max_waiting_;
  mutable std::mutex mu_;
  std::condition_variable wake_;
  std::deque<std::shared_ptr<Scan>> waiting_;
  std::vector<std::shared_ptr<Scan>> running_;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace ws::ui
