// STUN/TURN server URIs (RFC 7064/7065) and TURN REST credentials (the
// coturn shared-secret scheme), kept apart from the node for unit tests.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace turn {

struct Server {
    std::string scheme;    // "stun", "turn", "turns"
    std::string host;
    int port = 0;
    std::string transport; // "udp", "tcp", "tls" ("" for stun)
};

// Parses "turn:host[:port][?transport=udp|tcp]" and friends; false with
// `error` saying what is wrong.
bool parse_server(const std::string &uri, Server &out, std::string &error);

// username = "<expiry>[:user]", password = base64(HMAC-SHA1(secret, username)).
void rest_credentials(const std::string &secret, const std::string &user, int64_t expiry, std::string &username,
                      std::string &password);

// The form webrtcbin takes: "turn(s)://user:pass@host:port?transport=x",
// user and password percent-encoded; "stun://host:port" for STUN.
std::string webrtcbin_uri(const Server &s, const std::string &username, const std::string &password);

} // namespace turn
