#include "eval/harness/progress.h"

#include <fmt/format.h>

#include <chrono>
#include <cmath>

namespace lockstep::eval::harness {

namespace {
double steady_seconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}
}  // namespace

std::string format_duration(double seconds) {
  const long s = std::lround(std::max(0.0, seconds));
  if (s < 60) return fmt::format("{}s", s);
  if (s < 3600) return fmt::format("{}m{:02}s", s / 60, s % 60);
  return fmt::format("{}h{:02}m", s / 3600, (s % 3600) / 60);
}

Progress::Progress(std::ostream& out, int apps, int modes, int rounds, Clock clock)
    : out_(out), apps_(apps), modes_(modes), rounds_(rounds), clock_(clock ? std::move(clock) : steady_seconds),
      start_(clock_()) {}

double Progress::elapsed() const { return clock_() - start_; }

void Progress::say(const std::string& app, const std::string& mode, const std::string& text) {
  out_ << fmt::format("[eval {:7.1f}s] {} {}: {}", elapsed(), app, mode, text) << std::endl;
}

void Progress::app_started(const std::string& app) {
  ++app_index_;
  mode_index_ = 0;
  app_ = app;
  round_of_app_ = {};
  mode_of_app_ = {};
}

void Progress::app_skipped(const std::string& app) {
  app_started(app);
  mode_index_ = modes_;
}

void Progress::mode_started(const std::string& /*mode*/) {
  ++mode_index_;
  rounds_run_ = 0;
  in_mode_ = true;
  mode_start_ = clock_();
}

void Progress::round_done(double seconds) {
  ++rounds_run_;
  round_of_app_.sum += seconds;
  ++round_of_app_.n;
}

void Progress::mode_done(bool ok) {
  in_mode_ = false;
  if (!ok) return;
  const double took = clock_() - mode_start_;
  mode_of_app_.sum += took;
  ++mode_of_app_.n;
  mode_any_.sum += took;
  ++mode_any_.n;
}

std::optional<double> Progress::seconds_left() const {
  double left = 0;
  // The rest of the current mode: its rounds at this app's pace, else a whole mode of another app.
  if (in_mode_) {
    if (auto round = round_of_app_.value()) left += *round * (rounds_ - rounds_run_);
    else if (auto mode = mode_any_.value()) left += *mode;
    else return std::nullopt;
  }
  // Modes of this app not started yet: this app's mode time, else any app's, else its rounds.
  std::optional<double> here = mode_of_app_.value();
  if (!here) here = mode_any_.value();
  if (!here && round_of_app_.value()) here = *round_of_app_.value() * rounds_;
  if (const int modes_here = app_index_ > 0 ? modes_ - mode_index_ : 0; modes_here > 0) {
    if (!here) return std::nullopt;
    left += *here * modes_here;
  }
  // Every mode of the apps after this one, at the mean mode time over all apps.
  if (const int apps_after = apps_ - app_index_; apps_after > 0) {
    std::optional<double> any = mode_any_.value() ? mode_any_.value() : here;
    if (!any) return std::nullopt;
    left += *any * modes_ * apps_after;
  }
  return left;
}

std::string Progress::position() const {
  std::string out = fmt::format("app {}/{}, mode {}/{}", app_index_, apps_, mode_index_, modes_);
  if (auto left = seconds_left()) out += ", ~" + format_duration(*left) + " left";
  return out;
}

}  // namespace lockstep::eval::harness
