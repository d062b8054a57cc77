// set_node_hosts: the one place that writes a config file (`lockstep config set-ips`).
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/format.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "common/config.h"
#include "common/config_validate.h"

namespace lockstep {
namespace {

// A temporary file next to the target; removed unless committed by rename.
class TempFile {
 public:
  explicit TempFile(const std::string& target) : path_(target + ".XXXXXX") {
    int fd = ::mkstemp(path_.data());
    if (fd < 0) {
      path_.clear();
      throw ConfigError(target, 0, "", fmt::format("cannot create a temporary file: {}", std::strerror(errno)));
    }
    ::close(fd);
  }
  ~TempFile() {
    if (!path_.empty()) ::unlink(path_.c_str());
  }
  TempFile(const TempFile&) = delete;
  TempFile& operator=(const TempFile&) = delete;

  const std::string& path() const { return path_; }
  void committed() { path_.clear(); }

 private:
  std::string path_;
};

[[noreturn]] void io_error(const std::string& file, const char* what) {
  throw ConfigError(file, 0, "", fmt::format("{}: {}", what, std::strerror(errno)));
}

}  // namespace

void set_node_hosts(const std::string& path, const std::vector<std::string>& hosts) {
  libconfig::Config tree;
  config_detail::parse_into(tree, config_detail::read_file(path), path);
  ClusterConfig current = config_detail::validate(tree, path);

  libconfig::Setting& nodes = tree.lookup("nodes");
  if (hosts.size() != current.nodes.size())
    throw ConfigError(path, static_cast<int>(nodes.getSourceLine()), "nodes",
                      fmt::format("{} nodes but {} addresses given (one per node, in id order)",
                                  current.nodes.size(), hosts.size()));
  for (size_t i = 0; i < hosts.size(); ++i) {
    if (!is_ipv4(hosts[i]))
      throw ConfigError(path, 0, fmt::format("node {}", i + 1),
                        fmt::format("\"{}\" is not an IPv4 address", hosts[i]));
  }
  for (int i = 0; i < nodes.getLength(); ++i) {
    libconfig::Setting& node = nodes[i];
    int id = node["id"];
    node["host"] = hosts[static_cast<size_t>(id - 1)];
  }
  // The edited tree keeps the original line numbers, so a clash (say, equal addresses with equal
  // ports) is reported against the file as the user knows it.
  config_detail::validate(tree, path);

  // Plain `name = { ... };` groups like the shipped files, not libconfig's default `name : {`.
  tree.setOptions(libconfig::Setting::OptionSemicolonSeparators);
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) io_error(path, "cannot stat");
  TempFile tmp(path);
  try {
    tree.writeFile(tmp.path().c_str());
  } catch (const libconfig::FileIOException&) {
    io_error(path, "cannot write the new config");
  }
  // Same permissions as before (the file holds the cluster key), and durable before it replaces
  // the original.
  int fd = ::open(tmp.path().c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) io_error(path, "cannot reopen the new config");
  bool ok = ::fchmod(fd, st.st_mode & 07777) == 0 && ::fsync(fd) == 0;
  int saved = errno;
  ::close(fd);
  errno = saved;
  if (!ok) io_error(path, "cannot sync the new config");
  if (::rename(tmp.path().c_str(), path.c_str()) != 0) io_error(path, "cannot replace the config");
  tmp.committed();
}

}  // namespace lockstep
