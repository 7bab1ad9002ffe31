// ICE servers a WHIP/WHEP server hands out in Link headers of its 201
// (RFC 9725 section 4.4):
//   Link: <turn:turn.example.org:3478?transport=udp>; rel="ice-server";
//         username="u"; credential="p"; credential-type="password"
#pragma once

#include <string>
#include <vector>

namespace webrtcdirect {

struct IceServer {
    std::string url;        // stun:, stuns:, turn: or turns: URI (RFC 7064 / 7065)
    std::string username;   // turn(s) only
    std::string credential; // a secret: never logged
};

// Every link with rel="ice-server" in `values` (each one Link header field,
// which may hold several comma-separated links); other links are skipped.
// A malformed link is skipped and named in `problems` (for the log).
std::vector<IceServer> ice_servers_from_links(const std::vector<std::string> &values,
                                              std::vector<std::string> &problems);

} // namespace webrtcdirect
