#include "tests/storage/test_util.h"

#include <fcntl.h>

#include <cstdlib>
#include <utility>
#include <stdexcept>
#include <system_error>

namespace lockstep::paxos::testing {

TempDir::TempDir(const std::string& prefix) {
  std::string pattern = (std::filesystem::temp_directory_path() / (prefix + "-XXXXXX")).string();
  if (!::mkdtemp(pattern.data())) throw std::runtime_error("mkdtemp failed for " + pattern);
  path_ = pattern;
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

EntryPtr make_entry(Index index, View view, size_t proposals, size_t bytes) {
  auto entry = std::make_shared<Entry>();
  entry->index = index;
  entry->view = view;
  entry->stamp_ns = index * 1000 + view;
  entry->proposals.reserve(proposals);
  for (size_t i = 0; i < proposals; ++i) {
    Proposal p;
    p.id = {static_cast<NodeId>(1 + i % 3), view, index * 1000 + i};
    p.data.assign(bytes, static_cast<char>('a' + (index + view + i) % 26));
    entry->proposals.push_back(std::move(p));
  }
  return entry;
}

bool same_entry(const Entry& a, const Entry& b) {
  if (a.index != b.index || a.view != b.view || a.stamp_ns != b.stamp_ns ||
      a.proposals.size() != b.proposals.size())
    return false;
  for (size_t i = 0; i < a.proposals.size(); ++i)
    if (!(a.proposals[i].id == b.proposals[i].id) || a.proposals[i].data != b.proposals[i].data)
      return false;
  return true;
}

}  // namespace lockstep::paxos::testing

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <exception>

namespace lockstep::paxos::testing {

Child::Child(const std::function<int()>& body) {
  pid_ = ::fork();
  if (pid_ < 0) throw std::system_error(errno, std::generic_category(), "fork");
  if (pid_ == 0) {
    int code = 99;
    try {
      code = body();
    } catch (const std::exception& e) {
      std::fprintf(stderr, "child: %s\n", e.what());
    }
    std::fflush(nullptr);
    ::_exit(code);  // never return into the test framework
  }
}

Child::~Child() {
  if (pid_ > 0 && !reaped_) {
    ::kill(pid_, SIGKILL);
    wait();
  }
}

void Child::kill_hard() {
  if (!reaped_) ::kill(pid_, SIGKILL);
}

int Child::wait() {
  if (!reaped_) {
    while (::waitpid(pid_, &status_, 0) < 0 && errno == EINTR) {
    }
    reaped_ = true;
  }
  if (WIFEXITED(status_)) return WEXITSTATUS(status_);
  if (WIFSIGNALED(status_)) return 128 + WTERMSIG(status_);
  return -1;
}

Pipe::Pipe() {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) throw std::system_error(errno, std::generic_category(), "pipe");
  read_fd = fds[0];
  write_fd = fds[1];
}

Pipe::~Pipe() {
  close_read();
  close_write();
}

void Pipe::close_read() {
  if (read_fd >= 0) ::close(std::exchange(read_fd, -1));
}

void Pipe::close_write() {
  if (write_fd >= 0) ::close(std::exchange(write_fd, -1));
}

}  // namespace lockstep::paxos::testing
