// `wstrace ui FILE`: a saved trace played back into a LiveFeed at the pace it was recorded
// (times a speed), from a thread of its own, so that the live view shows it as it happened.
// The page drives it (control()): play, pause, speed, seek to a time (back: played again from
// the start up to there, into the same feed started again).
#pragma once

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "engine.h"
#include "inspector.h"
#include "live_feed.h"

namespace ws::ui {

class Playback {
 public:
  // Plays the events of `open()` into a feed of its own, starting paused at the beginning;
  // `open()` is called twice: first to learn when the trace ends. `window`: the feed's (calls
  // kept for pages that fall behind).
  explicit Playback(const std::function<std::unique_ptr<Engine>()>& open,
                    size_t window = report::LiveFeed::kDefaultWindow);
  ~Playback();

  report::LiveFeed& feed() { return *feed_; }
  // Starts the playing thread.
  void start();
  // A request of the page: op "play", "pause", "speed" (value: a factor, 0.01 to 10000) or
  // "seek" (value: ns since the first event; forward, what was shown stays; back, the feed starts
  // again and the trace is read from its start to there). Returns the state as JSON, as
  // state_json().
  std::string control(const std::string& op, const std::string& value);
  // {"playing":…,"speed":…,"position":ns,"end":ns of the last event,"done":…,"run":N}: `run`
  // counts the seeks back (a page that saw another run loads again).
  std::string state_json();

 private:
  void run();
  // Plays the engine's events until it ends (true) or a seek back or the end of the playback
  // stops it (false).
  bool play_through();
  // Starts again from the trace's start, shown at once up to `to`.
  void restart(int64_t to);
  // The trace time the playback has reached now (lock held).
  int64_t position_locked() const;

  std::function<std::unique_ptr<Engine>()> open_;
  std::unique_ptr<Engine> engine_;
  trace::TraceHeader header_;
  std::unique_ptr<inspect::Inspector> inspection_;
  std::unique_ptr<report::LiveFeed> feed_;
  std::thread thread_;
  std::mutex mu_;
  std::condition_variable changed_;
  bool playing_ = false, done_ = false, stopping_ = false;
  double speed_ = 1;
  int64_t first_ts_ = -1, end_ = 0;  // trace times: the first event's, the last shown (ns)
  // The position: `base_` (trace ns since the first event) when the clock read `since_`.
  int64_t base_ = 0;
  std::chrono::steady_clock::time_point since_;
  int64_t seek_ = -1;  // shown at once up to this position
  int64_t seek_back_ = -1;  // asked for: a seek back to this position
  uint64_t run_ = 0;
};

}  // namespace ws::ui
