// C++ std::thread, std::mutex, std::shared_mutex, std::condition_variable::wait_for (which goes
// through pthread_cond_clockwait), std::timed_mutex::try_lock_for and std::call_once.
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <deque>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <thread>
#include <vector>

using namespace std::chrono_literals;

namespace {

std::mutex log_mutex;
std::string log_text;
void note(const std::string& s) {
  std::lock_guard<std::mutex> g(log_mutex);
  log_text += s;
  log_text += ' ';
}

volatile unsigned long sink;
void work(unsigned& seed) {
  seed = seed * 1103515245u + 12345u;
  unsigned n = (seed >> 8) % 6000;
  for (unsigned i = 0; i < n; ++i) sink = sink + i;
}

}  // namespace

int main() {
  std::shared_mutex table_mutex;
  std::vector<int> table(8, 0);
  std::mutex q_mutex;
  std::condition_variable q_cv;
  std::deque<int> queue;
  bool done = false;
  std::timed_mutex tm;
  std::once_flag once;
  int timeouts = 0;

  std::vector<std::thread> threads;
  for (int id = 0; id < 3; ++id) {
    threads.emplace_back([&, id] {
      unsigned seed = static_cast<unsigned>(id) + 1;
      for (int i = 0; i < 40; ++i) {
        work(seed);
        {
          std::unique_lock<std::shared_mutex> w(table_mutex);
          table[static_cast<size_t>(i % 8)] += id + 1;
        }
        {
          std::lock_guard<std::mutex> g(q_mutex);
          queue.push_back(id * 100 + i);
        }
        q_cv.notify_one();
      }
    });
  }
  for (int id = 0; id < 3; ++id) {
    threads.emplace_back([&, id] {
      std::call_once(once, [&] { note("once" + std::to_string(id)); });
      unsigned seed = static_cast<unsigned>(id) + 50;
      for (;;) {
        std::unique_lock<std::mutex> lk(q_mutex);
        if (!q_cv.wait_for(lk, 2ms, [&] { return !queue.empty() || done; })) {
          ++timeouts;
          continue;
        }
        if (queue.empty() && done) return;
        int item = queue.front();
        queue.pop_front();
        lk.unlock();
        {
          std::shared_lock<std::shared_mutex> r(table_mutex);
          note("c" + std::to_string(id) + ":" + std::to_string(item) + "/" + std::to_string(table[static_cast<size_t>(item % 8)]));
        }
        if (tm.try_lock_for(100us)) {
          work(seed);
          tm.unlock();
        } else {
          note("tm-busy" + std::to_string(id));
        }
      }
    });
  }
  for (int i = 0; i < 3; ++i) threads[static_cast<size_t>(i)].join();
  {
    std::lock_guard<std::mutex> g(q_mutex);
    done = true;
  }
  q_cv.notify_all();
  for (size_t i = 3; i < threads.size(); ++i) threads[i].join();
  std::printf("%s\n", log_text.c_str());
  std::printf("timeouts %d\n", timeouts);
  int sum = 0;
  for (int v : table) sum += v;
  std::printf("sum %d\n", sum);
  return sum == 40 * (1 + 2 + 3) ? 0 : 1;
}
