#include "scan_pool.h"

#include "server_platform.h"

namespace ws::ui {

ScanPool::ScanPool(size_t threads, size_t max_waiting) : max_waiting_(max_waiting) {
  for (size_t i = 0; i < threads; ++i) threads_.push_back(quiet_thread([this] { serve(); }));
}

ScanPool::~ScanPool() { stop(); }

bool ScanPool::submit(const std::string& page, Work work, Done done) {
  auto scan = std::make_shared<Scan>();
  scan->page = page, scan->work = std::move(work), scan->done = std::move(done);
  {
    const std::lock_guard lock(mu_);
    if (stopping_) return false;
    // (the page's earlier scan: cancelled where it is, waiting or running)
    auto cancel = [&](const std::shared_ptr<Scan>& s) {
      if (!page.empty() && s->page == page) s->cancelled = true;
    };
    for (const auto& s : waiting_) cancel(s);
    for (const auto& s : running_) cancel(s);
    size_t still = 0;  // waiting and not cancelled
    for (const auto& s : waiting_) still += !s->cancelled;
    if (still >= max_waiting_) return false;
    waiting_.push_back(std::move(scan));
  }
  wake_.notify_one();
  return true;
}

void ScanPool::serve() {
  for (;;) {
    std::shared_ptr<Scan> scan;
    {
      std::unique_lock lock(mu_);
      wake_.wait(lock, [this] { return stopping_ || !waiting_.empty(); });
      if (waiting_.empty()) return;  // (stopping, nothing left)
      scan = std::move(waiting_.front());
      waiting_.pop_front();
      running_.push_back(scan);
    }
    std::string answer = scan->work(scan->cancelled);
    {
      const std::lock_guard lock(mu_);
      std::erase(running_, scan);
    }
    scan->done(std::move(answer));
  }
}

void ScanPool::stop() {
  {
    const std::lock_guard lock(mu_);
    stopping_ = true;
    for (const auto& s : waiting_) s->cancelled = true;
    for (const auto& s : running_) s->cancelled = true;
  }
  wake_.notify_all();
  for (std::thread& t : threads_)
    if (t.joinable()) t.join();
  threads_.clear();
}

size_t ScanPool::busy() const {
  const std::lock_guard lock(mu_);
  return waiting_.size() + running_.size();
}

}  // namespace ws::ui
