// Internal to the config module: turning a parsed libconfig tree into a validated ClusterConfig.
// Shared by load_config() and set_node_hosts(), which validates its edited tree before writing,
// so errors still point at the lines of the file as the user wrote it.
#pragma once

#include <libconfig.h++>

#include <string>

#include "common/config.h"

namespace lockstep::config_detail {

// Throws ConfigError naming `file`.
ClusterConfig validate(const libconfig::Config& tree, const std::string& file);

// Parses text into `tree`; a syntax error becomes a ConfigError naming `file`.
void parse_into(libconfig::Config& tree, const std::string& text, const std::string& file);

// Reads a whole file; a ConfigError if it cannot be read.
std::string read_file(const std::string& path);

}  // namespace lockstep::config_detail
