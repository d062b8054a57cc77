// A thread pool: a task queue under std::mutex + std::condition_variable; results are collected
// under a mutex and awaited with a condition variable. (std::future is not used on purpose: its
// lock-free fast path decides outside any synchronization call whether to wait, which no
// LD_PRELOAD scheduler can order; see dmt/README.md.)
#include <condition_variable>
#include <cstdio>
#include <functional>
#include <mutex>
#include <queue>
#include <thread>
#include <vector>

namespace {

class Pool {
 public:
  explicit Pool(int n) {
    for (int i = 0; i < n; ++i) workers_.emplace_back([this, i] { run(i); });
  }
  ~Pool() {
    {
      std::lock_guard<std::mutex> g(m_);
      stop_ = true;
    }
    cv_.notify_all();
    for (auto& w : workers_) w.join();
  }
  void submit(std::function<void(int)> f) {
    {
      std::lock_guard<std::mutex> g(m_);
      tasks_.push(std::move(f));
    }
    cv_.notify_one();
  }

 private:
  void run(int id) {
    for (;;) {
      std::function<void(int)> t;
      {
        std::unique_lock<std::mutex> lk(m_);
        cv_.wait(lk, [this] { return stop_ || !tasks_.empty(); });
        if (stop_ && tasks_.empty()) return;
        t = std::move(tasks_.front());
        tasks_.pop();
      }
      t(id);
    }
  }
  std::mutex m_;
  std::condition_variable cv_;
  std::queue<std::function<void(int)>> tasks_;
  std::vector<std::thread> workers_;
  bool stop_ = false;
};

std::mutex order_mutex;
std::condition_variable all_done;
std::vector<int> order;
long total = 0;

}  // namespace

int main() {
  {
    Pool pool(4);
    for (int i = 0; i < 120; ++i) {
      pool.submit([i](int worker) {
        long acc = 0;
        for (long k = 0; k < (i * 7919) % 20000; ++k) acc += k % (i + 1);
        std::lock_guard<std::mutex> g(order_mutex);
        order.push_back(i * 10 + worker);
        total += acc;
        if (order.size() == 120) all_done.notify_one();
      });
    }
    std::unique_lock<std::mutex> lk(order_mutex);
    all_done.wait(lk, [] { return order.size() == 120; });
    std::printf("total %ld\n", total);
  }
  for (size_t i = 0; i < order.size(); ++i) std::printf("%d%c", order[i], (i + 1) % 20 == 0 ? '\n' : ' ');
  std::printf("\n");
  return order.size() == 120 ? 0 : 1;
}
