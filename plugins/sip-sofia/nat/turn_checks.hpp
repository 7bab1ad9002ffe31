// What the TURN client accepts from its socket, everything from the network
// being hostile until these say otherwise. Pure checks, no state: the client
// (turn_client.cpp) keeps the outstanding transactions and the bound channel
// and passes them in. Each returns Problem::None or the reason to drop.
#pragma once

#include "nat/stun_message.hpp"

#include <gio/gio.h>

#include <optional>
#include <string>

namespace sipsofia::turn {

// Only the TURN server speaks on an allocation's socket: `from` must be its
// address and port. A missing `from` (no source known) fails.
stun::Problem check_source(GSocketAddress *from, GSocketAddress *server);

// A response to a request of ours (`request_method`, signed with
// `request_key`, "" before the server asked for credentials), already
// matched to it by transaction id. Once we authenticate, a response must
// carry a valid MESSAGE-INTEGRITY unless it is a 401 or 438, which ask for
// (new) credentials and come without one (RFC 8489 section 9.2.5).
stun::Problem check_response(const uint8_t *data, size_t len, const stun::Message &m, uint16_t request_method,
                             const std::string &request_key);

// ChannelData from the server: the channel we bound (`bound`), or the one
// whose ChannelBind is on its way (`requested`: the server relays on it as
// soon as it accepted it, before its answer reaches us); 0 = none. A length
// within the datagram, at most the padding to 4 after it. On success
// `payload` is the application data's length (it starts at byte 4).
stun::Problem check_channel_data(const uint8_t *data, size_t len, uint16_t bound, uint16_t requested,
                                 size_t &payload);

// A Data indication (already parsed): DATA present and not empty, and
// XOR-PEER-ADDRESS of the peer we permitted (its IP: permissions are per IP).
stun::Problem check_data_indication(const stun::Message &m, const std::optional<stun::Address> &peer);

} // namespace sipsofia::turn
