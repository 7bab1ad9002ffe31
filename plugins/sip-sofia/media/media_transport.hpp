// How one m= line's RTP and RTCP travel to and from the peer. RtpStream
// builds its chain around the four elements a transport makes, so a new
// transport (ICE with TURN candidates from a `turn` node) plugs in without
// touching the rest of the plugin. Plain UDP is udp_transport.hpp; a TURN
// relay (the phone-behind-NAT case) is nat/turn_transport.hpp; ICE (RFC 8445,
// libnice) is nat/ice_transport.hpp.
#pragma once

#include <gst/gst.h>

#include <functional>
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
    // `done` on the main loop once port() and public_address() are known,
    // with "" or why they cannot be (a relay refused); at once for local
    // sockets. close() drops a pending `done`.
    virtual void when_ready(std::function<void(const std::string &error)> done) { done(""); }
    virtual void close() = 0;
    virtual bool is_open() const = 0;
    // The RTP port for the SDP.
    virtual int port() const = 0;
    // The RTCP port for the SDP: the next one unless a=rtcp says otherwise.
    virtual int rtcp_port() const { return port() ? port() + 1 : 0; }
    // The address for the SDP's c=; "" = the local one.
    virtual std::string public_address() const { return ""; }

    // New, floating elements bound to the reserved endpoints and aimed at the
    // peer's RTP/RTCP address from its SDP. The sinks must not preroll.
    virtual bool make_elements(const std::string &remote_address, int remote_rtp_port, int remote_rtcp_port,
                               TransportElements &out, std::string &error) = 0;
    // The elements were stopped and dropped (end of call, re-INVITE).
    virtual void elements_released() {}
    // Caps of what a source of make_elements() gives: its own "caps"
    // property (udpsrc), or wherever the transport keeps them (nicesrc has
    // no such property).
    virtual void set_source_caps(GstElement *src, GstCaps *caps) const { g_object_set(src, "caps", caps, nullptr); }
};

} // namespace sipsofia
