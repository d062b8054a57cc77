// Writes the fuzz target's seed corpus: valid frames of every kind, valid payloads, and inputs for
// the round-trip and tamper modes. usage: frame_fuzz_seeds DIR
#include <cstdio>
#include <fstream>
#include <string>

#include "paxos/wire/message_codec.h"
#include "tests/fuzz/fuzz_setup.h"
#include "tests/wire/test_messages.h"

using namespace lockstep::wire;

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s DIR\n", argv[0]);
    return 2;
  }
  std::string dir = argv[1];
  int count = 0;
  auto write = [&](fuzz::Mode mode, const std::string& body) {
    std::string path = dir + "/seed-" + std::to_string(count++);
    std::ofstream out(path, std::ios::binary);
    out.put(static_cast<char>(mode));
    out << body;
    if (!out) {
      std::fprintf(stderr, "cannot write %s\n", path.c_str());
      std::exit(1);
    }
  };

  FrameCodec codec(fuzz::kKey, fuzz::kMaxPayload);
  std::vector<std::string> payloads;
  std::string all_frames;
  auto add = [&](FrameKind kind, std::string payload) {
    std::string frame;
    codec.encode(kind, payload, frame);
    write(fuzz::kStream, frame);
    write(fuzz::kPayloads, payload);
    write(fuzz::kRoundTrip, std::string(1, static_cast<char>(kind)) + payload);
    write(fuzz::kTamper, std::string("\x05\x00\x01", 3) + payload);
    all_frames += frame;
  };
  std::string p;
  encode_hello(Hello{"lockstep-local", Role::Peer, 2}, p);
  add(FrameKind::Hello, p);
  for (const auto& m : testing::sample_messages()) {
    p.clear();
    encode_message(m, p);
    add(FrameKind::Paxos, p);
  }
  p.clear();
  encode_submit(Submit{42, "SET k v"}, p);
  add(FrameKind::Submit, p);
  p.clear();
  encode_submit_result(SubmitResult{42, SubmitStatus::Ok, 7, ""}, p);
  add(FrameKind::SubmitResult, p);
  add(FrameKind::StatusRequest, "");
  add(FrameKind::Status, R"({"role":"leader","view":3,"commit":17})");
  add(static_cast<FrameKind>(kProxyKindFirst), "proxy event");
  write(fuzz::kStream, all_frames);  // a whole connection's worth
  std::printf("%d seeds in %s\n", count, dir.c_str());
  return 0;
}
