// Subcommands of `lockstep` register themselves here, each from its own cmd_*.cpp file, so adding
// a command touches no shared file. main() applies every registration to the CLI11 root.
#pragma once

#include <CLI/CLI.hpp>

#include <functional>
#include <string>

namespace lockstep::cli {

using Registration = std::function<void(CLI::App& root)>;

// Called from a namespace-scope initializer in a cmd_*.cpp file; returns true.
bool add_command(Registration registration);

// Applies all registrations, in a stable order (by the order the files were linked).
void register_all(CLI::App& root);

// Finds the subcommand NAME of PARENT or creates it; lets `bench paxos` and `bench dmt` live in
// different files under one `bench`.
CLI::App& subcommand_of(CLI::App& parent, const std::string& name, const std::string& description);

// Exit codes used by every command.
inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;
inline constexpr int kExitUsage = 2;

// Thrown by a command to end with a one-line error and an exit code.
struct CommandError : std::runtime_error {
  CommandError(int code, const std::string& message) : std::runtime_error(message), exit_code(code) {}
  int exit_code;
};

}  // namespace lockstep::cli
