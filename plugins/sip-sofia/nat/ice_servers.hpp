// The STUN and TURN servers one call's ICE agent uses (from a `turn` node),
// and where its host candidates bind: what the node hands the ICE module
// (nat/ice_call.hpp), which alone links libnice.
#pragma once

#include "nat/turn_client.hpp" // TurnServerConfig, TurnLog
#include "net/port_range.hpp"

#include <optional>
#include <string>

namespace sipsofia {

struct IceServers {
    std::string stun_host; // IP literal; "" = no STUN server
    int stun_port = 3478;
    std::optional<TurnServerConfig> turn; // relayed candidates (UDP allocations)
    bool relay_only = false;              // the turn node's policy: only relayed candidates
    mgwnet::PortRange ports;              // host candidates' ports (rtp_ports); any: the kernel's
};

} // namespace sipsofia
