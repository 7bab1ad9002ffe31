#include "call_transports.hpp"

#include "nat/ice_sdp.hpp"
#include "nat/ice_settings.hpp"
#include "nat/turn_settings.hpp"
#include "nat/turn_transport.hpp"
#include "media/udp_transport.hpp"

#include <mediagw/plugin.h>

namespace sipsofia {

CallTransports::CallTransports(RtpMedia &media, Host host) : media_(media), host_(std::move(host)) {}

bool CallTransports::open(const std::string &bind_address, bool video, std::string &error)
{
    ready_ = false;
    if (ice_) { // ready once gathered
        auto ice = [ice = ice_](const char *label) -> std::unique_ptr<MediaTransport> {
            return ice->transport(label);
        };
        if (media_.open(bind_address, error, video, ice))
            return true;
        ice_.reset();
        return false;
    }
    RtpMedia::TransportFactory relay;
    const mgwnet::PortRange ports = host_.rtp_ports;
    if (auto server = turn_server(error)) {
        server->refetch = [this] {
            std::string ignored;
            return turn_server(ignored);
        };
        relay = [this, server = *server](const char *label) -> std::unique_ptr<MediaTransport> {
            return std::make_unique<TurnTransport>(server, turn_log(), label);
        };
    } else if (!error.empty()) {
        return false;
    }
    // Local sockets (the relay's are outbound to the TURN server: any port).
    RtpMedia::TransportFactory local = [ports](const char *) -> std::unique_ptr<MediaTransport> {
        return std::make_unique<UdpTransport>(ports);
    };
    if (!media_.open(bind_address, error, video || !relay, relay ? relay : local)) // local sockets are cheap: always video
        return false;
    ready_ = !relay;
    return true;
}

std::optional<TurnServerConfig> CallTransports::turn_server(std::string &error)
{
    error.clear();
    if (host_.ice_node.empty())
        return std::nullopt;
    GstStructure *ice = host_.query_node(host_.ice_node, "ice-servers");
    if (!ice) {
        error = "ice: node '" + host_.ice_node + "' gave no ice-servers";
        return std::nullopt;
    }
    auto server = turn_server_from(ice, error);
    const char *policy = gst_structure_get_string(ice, "policy");
    if (!server && error.empty() && policy && g_str_equal(policy, "relay"))
        error = "ice: policy relay-only but node '" + host_.ice_node + "' gives no TURN server";
    gst_structure_free(ice);
    if (!error.empty())
        error = "ice: " + error.substr(error.rfind("ice: ", 0) == 0 ? 5 : 0);
    return server;
}

TurnLog CallTransports::turn_log() const
{
    return host_.log;
}

std::string CallTransports::failed(const std::string &error)
{
    if (!ice_) {
        turn_failed(error);
        return "TURN allocation failed: " + error;
    }
    media_.close();
    ice_.reset();
    ready_ = false;
    host_.log(MGW_LOG_ERROR, "ICE: " + error);
    return "ICE: " + error;
}

bool CallTransports::start_ice(const std::string &offer, std::string &error)
{
    ice_.reset();
    const RemoteIceMedia peer = remote_ice(offer);
    if (!host_.media_nat_ice || (!offer.empty() && !peer.any()))
        return true;
    IceServers servers;
    if (!host_.ice_node.empty()) {
        GstStructure *ice = host_.query_node(host_.ice_node, "ice-servers");
        if (!ice) {
            error = "ice: node '" + host_.ice_node + "' gave no ice-servers";
            return false;
        }
        const bool ok = ice_servers_from(ice, servers, error);
        gst_structure_free(ice);
        if (!ok) {
            error = "ice: " + error;
            return false;
        }
    }
    // We control when we offer, and against an ICE-lite peer (RFC 8445 section 6.1.1).
    const bool controlling = offer.empty() || peer.audio.lite || peer.video.lite;
    servers.ports = host_.rtp_ports;
    ice_ = make_ice_call(servers, controlling, turn_log(), error);
    return ice_ != nullptr;
}

void CallTransports::turn_failed(const std::string &error)
{
    media_.close();
    ready_ = false;
    host_.log(MGW_LOG_ERROR, "TURN allocation failed: " + error);
    host_.turn_failed(error);
}

void CallTransports::end_call()
{
    ice_.reset();
    ready_ = false;
}

} // namespace sipsofia
