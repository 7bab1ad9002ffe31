// What the ICE agent of the SIP leg takes from a `turn` node's "ice-servers"
// answer: the first STUN server given by address (server-reflexive
// candidates), the first TURN server over UDP (relayed candidates, as the
// relay mode uses it: turn_settings.hpp) and the relay-only policy.
#pragma once

#include "nat/ice_servers.hpp"

#include <gst/gst.h>

namespace sipsofia {

// false with `error` when the node's TURN servers are unusable here.
bool ice_servers_from(const GstStructure *ice_servers, IceServers &out, std::string &error);

} // namespace sipsofia
