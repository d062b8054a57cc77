// Progress lines of a run over several apps and modes, on stderr: elapsed time, where we are and
// an estimate of what is left. The estimate needs measurements: a round still to run in the
// current mode costs what this app's rounds cost so far; a mode still to run costs what a
// successful mode of this app cost (up + warm-up + rounds + down), else the mean successful mode
// of any app. Failed modes are short and would make the estimate optimistic, so they are not
// counted. The clock is injectable so tests see fixed times.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <ostream>
#include <string>

namespace lockstep::eval::harness {

class Progress {
 public:
  using Clock = std::function<double()>;  // seconds since some fixed point

  // APPS apps of MODES modes of ROUNDS rounds each will run.
  Progress(std::ostream& out, int apps, int modes, int rounds, Clock clock = {});

  // "[eval   12.3s] APP MODE: TEXT" on the output.
  void say(const std::string& app, const std::string& mode, const std::string& text);

  void app_started(const std::string& app);
  // An app that could not run at all (every mode failed before starting).
  void app_skipped(const std::string& app);
  void mode_started(const std::string& mode);
  void round_done(double seconds);
  // OK: the mode ran every round (its duration then feeds the estimate).
  void mode_done(bool ok);

  double elapsed() const;
  // Seconds of work left, nullopt before anything was measured.
  std::optional<double> seconds_left() const;
  // "app 2/5, mode 1/3, ~4m10s left" (without the estimate until there is one).
  std::string position() const;

 private:
  struct Mean {
    double sum = 0;
    int n = 0;
    std::optional<double> value() const { return n ? std::optional<double>(sum / n) : std::nullopt; }
  };

  std::ostream& out_;
  int apps_, modes_, rounds_;
  Clock clock_;
  double start_;
  int app_index_ = 0;   // 1-based, 0 before the first
  int mode_index_ = 0;  // within the app
  int rounds_run_ = 0;  // in the current mode
  bool in_mode_ = false;
  double mode_start_ = 0;
  std::string app_;
  Mean round_of_app_;
  Mean mode_of_app_;
  Mean mode_any_;
};

// 75 -> "1m15s", 3900 -> "1h05m", 12 -> "12s".
std::string format_duration(double seconds);

}  // namespace lockstep::eval::harness
