// The last bound on a gateway's stop. The drain is bounded by drain_timeout
// on the main loop; a main loop blocked inside a node's stop (an element whose
// state change never returns: seen once in CI after a room's PulseAudio was
// killed) would keep the process, and every port it holds, forever. A
// watchdog thread ends the process (exit code 1) when a stop armed here has
// not been disarmed in time.
#pragma once

#include <chrono>
#include <string>

namespace mediagw {

// Any thread. `owner` names the stop (a Gateway); arming it again keeps the
// first deadline.
void arm_stop_watchdog(const void *owner, std::chrono::milliseconds after, const std::string &what);
void disarm_stop_watchdog(const void *owner);

} // namespace mediagw
