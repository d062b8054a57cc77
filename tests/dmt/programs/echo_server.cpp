// A multi-threaded TCP echo server for the runtime's server test: the main thread accepts,
// a pool of workers (mutex + condition variable queue) echoes lines until the peer closes.
// Usage: echo_server PORT_FILE CONNECTIONS [WORKERS] -- listens on an ephemeral port, writes it
// to PORT_FILE, serves CONNECTIONS connections and exits 0.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <deque>

namespace {

pthread_mutex_t q_lock = PTHREAD_MUTEX_INITIALIZER;
pthread_cond_t q_cond = PTHREAD_COND_INITIALIZER;
std::deque<int> q;
bool stopping = false;

void* worker(void*) {
  for (;;) {
    pthread_mutex_lock(&q_lock);
    while (q.empty() && !stopping) pthread_cond_wait(&q_cond, &q_lock);
    if (q.empty()) {
      pthread_mutex_unlock(&q_lock);
      return nullptr;
    }
    int fd = q.front();
    q.pop_front();
    pthread_mutex_unlock(&q_lock);
    char buf[4096];
    for (;;) {
      ssize_t n = read(fd, buf, sizeof buf);
      if (n <= 0) break;
      ssize_t off = 0;
      while (off < n) {
        ssize_t w = write(fd, buf + off, static_cast<size_t>(n - off));
        if (w <= 0) break;
        off += w;
      }
    }
    close(fd);
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: echo_server PORT_FILE CONNECTIONS [WORKERS]\n");
    return 2;
  }
  const int connections = std::atoi(argv[2]);
  const int workers = argc > 3 ? std::atoi(argv[3]) : 4;
  int ls = socket(AF_INET, SOCK_STREAM, 0);
  int one = 1;
  setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (bind(ls, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || listen(ls, 128) != 0) {
    std::perror("bind/listen");
    return 1;
  }
  socklen_t len = sizeof addr;
  getsockname(ls, reinterpret_cast<sockaddr*>(&addr), &len);
  {
    char tmp[4096];
    std::snprintf(tmp, sizeof tmp, "%s.tmp", argv[1]);
    FILE* f = std::fopen(tmp, "w");
    std::fprintf(f, "%d\n", ntohs(addr.sin_port));
    std::fclose(f);
    std::rename(tmp, argv[1]);
  }
  pthread_t th[64];
  for (int i = 0; i < workers && i < 64; ++i) pthread_create(&th[i], nullptr, worker, nullptr);
  for (int served = 0; served < connections; ++served) {
    int fd = accept(ls, nullptr, nullptr);
    if (fd < 0) {
      std::perror("accept");
      return 1;
    }
    pthread_mutex_lock(&q_lock);
    q.push_back(fd);
    pthread_cond_signal(&q_cond);
    pthread_mutex_unlock(&q_lock);
  }
  pthread_mutex_lock(&q_lock);
  stopping = true;
  pthread_cond_broadcast(&q_cond);
  pthread_mutex_unlock(&q_lock);
  for (int i = 0; i < workers && i < 64; ++i) pthread_join(th[i], nullptr);
  close(ls);
  std::printf("served %d\n", connections);
  return 0;
}
