// A UDP port range for media ("20000-29999"): where a gateway's RTP and ICE
// sockets may bind, so that a firewall opens exactly that range. Empty =
// the kernel's ephemeral ports.
#pragma once

#include <string>

namespace mgwnet {

struct PortRange {
    int min = 0, max = 0; // both 0: any port
    bool any() const { return min == 0; }
};

// "MIN-MAX", 1024 <= MIN < MAX <= 65535, or "" (any). An even/odd pair
// (RTP + RTCP) must fit: MAX - MIN >= 1. false with `error` naming the
// problem (the caller prefixes the property's name).
bool parse_port_range(const std::string &text, PortRange &out, std::string &error);

} // namespace mgwnet
