// What the SIP leg takes from a `turn` node's "ice-servers" answer: the
// first TURN server reachable over UDP and its credentials.
#pragma once

#include "nat/turn_client.hpp"

#include <gst/gst.h>

#include <optional>
#include <string>

namespace sipsofia {

// nullopt with `error` empty: no TURN server given (STUN only), plain RTP.
// nullopt with `error` set: TURN servers given but none the SIP leg can use.
std::optional<TurnServerConfig> turn_server_from(const GstStructure *ice_servers, std::string &error);

} // namespace sipsofia
