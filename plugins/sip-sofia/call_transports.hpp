// Which transport a call's RTP and RTCP take (the node's `ice` and `media_nat`
// properties): plain UDP sockets, a relay on the `ice` node's first TURN
// server over UDP (a phone behind NAT), or, with media_nat = ice and a peer
// that does ICE (or an offer of ours), an ICE agent (libnice) with the `ice`
// node's STUN and TURN servers. Part of the node: it joins media/ and nat/.
#pragma once

#include "media/rtp_media.hpp"
#include "nat/ice_call.hpp"
#include "nat/turn_client.hpp" // TurnServerConfig, TurnLog

#include <gst/gst.h>

#include <functional>
#include <memory>
#include <optional>
#include <string>

namespace sipsofia {

class CallTransports {
public:
    // What the node gives (all called on the main loop).
    struct Host {
        std::string ice_node;  // the `ice` property: a turn node's name, "" = none
        bool media_nat_ice = false; // media_nat = "ice"
        mgwnet::PortRange rtp_ports;  // rtp_ports: where RTP sockets and ICE host candidates bind
        // Node::query_node: a new GstStructure the caller frees, nullptr when none.
        std::function<GstStructure *(const std::string &node, const char *what)> query_node;
        std::function<void(int level, const std::string &message)> log; // mgw_log_level values
        // A relay could not be allocated (the node's turn.failed event).
        std::function<void(const std::string &error)> turn_failed;
    };

    CallTransports(RtpMedia &media, Host host);
    CallTransports(const CallTransports &) = delete;
    CallTransports &operator=(const CallTransports &) = delete;

    // A call gets an ICE agent when it will carry our offer (`offer` empty)
    // or when the peer's offer has ICE attributes; other peers keep plain RTP
    // (or the TURN relay). false: the `ice` node's servers are unusable, or
    // the ICE module cannot be loaded (`error` says which).
    bool start_ice(const std::string &offer, std::string &error);
    // Opens this call's RTP transports; ready() tells whether their
    // addresses are known yet (a relay or ICE answers later).
    bool open(const std::string &bind_address, bool video, std::string &error);
    // The open transports know their SDP addresses.
    bool ready() const { return ready_; }
    void set_ready() { ready_ = true; }
    // The transports of a call could not get their addresses: closes them
    // and says why, for a Warning header or a failed dial.
    std::string failed(const std::string &error);
    // This call's ICE agent, nullptr when it has none.
    IceCall *ice() const { return ice_.get(); }
    // The call is over: the next one chooses again.
    void end_call();

private:
    // The `ice` node's first TURN server over UDP (fresh credentials for each query).
    std::optional<TurnServerConfig> turn_server(std::string &error);
    TurnLog turn_log() const;
    void turn_failed(const std::string &error);

    RtpMedia &media_;
    Host host_;
    bool ready_ = false;
    std::shared_ptr<IceCall> ice_; // media_nat = ice and a peer that does ICE
};

} // namespace sipsofia
