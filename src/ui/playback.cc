#include "playback.h"

#include <algorithm>

#include <fmt/format.h>

namespace ws::ui {
namespace {

inspect::InspectOptions playback_inspection() {
  inspect::InspectOptions io;
  io.http = true;
  io.findings = inspect::DiagnoseOptions{};
  return io;
}

}  // namespace

Playback::Playback(const std::function<std::unique_ptr<Engine>()>& open, size_t window)
    : open_(open), inspection_(std::make_unique<inspect::Inspector>(playback_inspection())) {
  // When the trace ends, for the page's time slider.
  if (auto first = open()) {
    Event ev;
    int64_t start = -1;
    while (first->next(ev)) {
      if (start < 0) start = ev.ts;
      end_ = std::max(end_, ev.ts - start);
    }
  }
  engine_ = open();
  header_ = engine_->header();
  feed_ = std::make_unique<report::LiveFeed>(*inspection_, header_, window);
  feed_->live_extra = [this] { return ",\"playback\":" + state_json(); };
}

Playback::~Playback() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  changed_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void Playback::start() { thread_ = std::thread([this] { run(); }); }

int64_t Playback::position_locked() const {
  if (!playing_) return base_;
  const double ran = std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() -
                                                              since_).count();
  return std::min(end_, base_ + static_cast<int64_t>(ran * speed_));
}

void Playback::run() {
  for (;;) {
    if (play_through()) {
      {
        std::lock_guard lock(feed_->mutex());
        inspection_->finish();
      }
      {
        std::lock_guard lock(mu_);
        done_ = true;
        base_ = end_;
        playing_ = false;
      }
      feed_->set_over();
    }
    int64_t to = 0;
    {
      std::unique_lock lock(mu_);
      changed_.wait(lock, [this] { return stopping_ || seek_back_ >= 0; });
      if (stopping_) return;
      to = seek_back_;
      seek_back_ = -1;
    }
    restart(to);
  }
}

bool Playback::play_through() {
  Event ev;
  while (engine_ && engine_->next(ev)) {
    {
      std::unique_lock lock(mu_);
      if (first_ts_ < 0) first_ts_ = ev.ts;
      const int64_t t = ev.ts - first_ts_;
      while (!stopping_ && seek_back_ < 0 && t > seek_ && !(playing_ && position_locked() >= t)) {
        if (!playing_) {
          changed_.wait(lock);
          continue;
        }
        // Asleep until the event's time comes at this speed (or the page changes something).
        const auto due = since_ + std::chrono::nanoseconds(
                                      static_cast<int64_t>(static_cast<double>(t - base_) / speed_));
        changed_.wait_until(lock, due);
      }
      if (stopping_ || seek_back_ >= 0) return false;
    }
    {
      std::lock_guard lock(feed_->mutex());
      inspection_->observe(ev);
    }
    feed_->notify();
  }
  return true;
}

void Playback::restart(int64_t to) {
  auto engine = open_();
  auto inspection = std::make_unique<inspect::Inspector>(playback_inspection());
  // (under the feed's locks, as a page's part takes them, state_json in it: no part between)
  feed_->restart(*inspection, [&] {
    inspection_.swap(inspection);
    std::lock_guard lock(mu_);
    engine_ = std::move(engine);
    first_ts_ = -1;
    base_ = seek_ = std::min(to, end_);
    since_ = std::chrono::steady_clock::now();
    done_ = false;
    ++run_;
  });
  changed_.notify_all();
  feed_->notify();
}

std::string Playback::control(const std::string& op, const std::string& value) {
  uint64_t run = 0;
  bool back = false;
  {
    std::lock_guard lock(mu_);
    run = run_;
    const auto now = std::chrono::steady_clock::now();
    double v = 0;
    try {
      v = value.empty() ? 0 : std::stod(value);
    } catch (...) {
      v = 0;
    }
    if (op == "play" && !playing_ && !done_) {
      playing_ = true;
      since_ = now;
    } else if (op == "pause" && playing_) {
      base_ = position_locked();
      playing_ = false;
    } else if (op == "speed" && v >= 0.01 && v <= 10000) {
      base_ = position_locked();
      since_ = now;
      speed_ = v;
    } else if (op == "seek" && v > static_cast<double>(position_locked())) {
      base_ = std::min(end_, static_cast<int64_t>(v));
      since_ = now;
      seek_ = base_;
    } else if (op == "seek" && v >= 0 && v < static_cast<double>(position_locked())) {
      seek_back_ = static_cast<int64_t>(v);  // (run() starts again)
      back = true;
    }
  }
  changed_.notify_all();
  if (back) {  // the answer tells the page of the new run: it loads again
    std::unique_lock lock(mu_);
    changed_.wait(lock, [&] { return run_ != run || stopping_; });
  }
  return state_json();
}

std::string Playback::state_json() {
  std::lock_guard lock(mu_);
  return fmt::format(
      "{{\"playing\":{},\"speed\":{},\"position\":{},\"end\":{},\"done\":{},\"run\":{}}}",
      playing_ ? "true" : "false", speed_, seek_back_ >= 0 ? seek_back_ : position_locked(), end_,
      done_ ? "true" : "false", run_);
}

}  // namespace ws::ui
