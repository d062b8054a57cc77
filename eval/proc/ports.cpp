#include "eval/proc/ports.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <system_error>

namespace lockstep::eval {

std::vector<std::uint16_t> free_loopback_ports(int count) {
  std::vector<int> fds;
  std::vector<std::uint16_t> ports;
  auto close_all = [&] {
    for (int fd : fds) close(fd);
  };
  for (int i = 0; i < count; ++i) {
    const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
      const int err = errno;
      close_all();
      throw std::system_error(err, std::generic_category(), "socket");
    }
    fds.push_back(fd);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
        getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
      const int err = errno;
      close_all();
      throw std::system_error(err, std::generic_category(), "bind 127.0.0.1:0");
    }
    ports.push_back(ntohs(addr.sin_port));
  }
  close_all();
  return ports;
}

}  // namespace lockstep::eval
