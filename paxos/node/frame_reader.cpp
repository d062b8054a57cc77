#include "paxos/node/frame_reader.h"

#include <algorithm>

namespace lockstep::node {

ReadOutcome read_frames(evbuffer* input, const wire::FrameCodec& codec, wire::RejectCounters& counters,
                        std::string& error,
                        const std::function<bool(wire::FrameKind, std::string_view)>& on_frame) {
  for (;;) {
    size_t available = evbuffer_get_length(input);
    if (available == 0) return ReadOutcome::Ok;
    // First look at the header only; it tells how long the frame is.
    size_t want = std::min(available, wire::kFrameHeaderSize);
    auto* data = reinterpret_cast<const char*>(evbuffer_pullup(input, static_cast<ssize_t>(want)));
    wire::DecodeResult r = codec.decode({data, want}, counters);
    if (r.need_more() && r.need > want && available >= r.need) {
      data = reinterpret_cast<const char*>(evbuffer_pullup(input, static_cast<ssize_t>(r.need)));
      r = codec.decode({data, r.need}, counters);
    }
    if (r.failed()) {
      error = r.error;
      return ReadOutcome::Rejected;
    }
    if (r.need_more()) return ReadOutcome::Ok;
    // The callback may close the connection; touch the buffer only if it did not.
    if (!on_frame(r.kind, r.payload)) return ReadOutcome::Stopped;
    evbuffer_drain(input, r.consumed);
  }
}

}  // namespace lockstep::node
