// Pulls whole frames out of a bufferevent's input buffer. Frames are made contiguous with one
// evbuffer_pullup (a no-op when they already are) and handed to the caller as views, which stay
// valid until the callback returns.
#pragma once

#include <functional>
#include <string_view>

#include "paxos/node/libevent_handles.h"
#include "paxos/wire/frame.h"

namespace lockstep::node {

enum class ReadOutcome { Ok, Rejected, Stopped };

// Calls on_frame for every complete frame in `input`, draining each. Stops early and returns
// Stopped when on_frame returns false, Rejected on a malformed frame (counted in `counters`,
// reason in `error`); the caller then closes the connection.
ReadOutcome read_frames(evbuffer* input, const wire::FrameCodec& codec, wire::RejectCounters& counters,
                        std::string& error,
                        const std::function<bool(wire::FrameKind, std::string_view)>& on_frame);

}  // namespace lockstep::node
