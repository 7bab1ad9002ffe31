// How one m= line's RTP and RTCP travel to and from the peer. RtpStream
// builds its chain around the four elements a transport makes, so a new
// transport (ICE with TURN candidates from a `turn` node) plugs in without
// touching the rest of the plugin. Plain UDP is udp_transport.hpp.
#pragma once

#include <gst/gst.h>

#include <string>

namespace sipsofia {

struct TransportElements {
    GstElement *rtp_src = nullptr, *rtcp_src = nullptr;   // what the peer sends us
    GstElement *rtp_sink = nullptr, *rtcp_sink = nullptr; // what we send the peer
};

class MediaTransport {
public:
    virtual ~MediaTransport() = default;

    // Reserve the local endpoints on `address` (before the SDP is written).
    virtual bool open(const std::string &address, std::string &error) = 0;
    virtual void close() = 0;
    virtual bool is_open() const = 0;
    // The RTP port for the SDP; RTCP uses the next one.
    virtual int port() const = 0;

    // New, floating elements bound to the reserved endpoints and aimed at the
    // peer's RTP/RTCP address from its SDP. The sinks must not preroll.
    virtual bool make_elements(const std::string &remote_address, int remote_rtp_port, int remote_rtcp_port,
                               TransportElements &out, std::string &error) = 0;
};

} // namespace sipsofia
