// Symmetric RTP (RFC 4961 practice, "latching"): send to where the peer's
// packets come from, not to what its SDP says, so that a caller behind NAT
// hears us. Which sources are accepted and latched to is the SourceFilter's
// decision (rtp_source_policy.hpp: by default the first source, or the SDP's
// address shortly after the offer/answer, then locked); packets from any
// other source are dropped before they reach rtpbin.
#pragma once

#include "media/rtp_source_policy.hpp"

#include <gio/gio.h>
#include <gst/gst.h>

#include <functional>
#include <string>

namespace sipsofia {

class Latch {
public:
    // Told (on a streaming thread) of the first stranger dropped since reset.
    using StrangerLog = std::function<void(const std::string &message)>;

    Latch() = default;
    Latch(const Latch &) = delete;
    Latch &operator=(const Latch &) = delete;

    // `sink`: the udpsink to redirect (borrowed; a sink without a "host"
    // property is left alone and every packet accepted: ICE checks its
    // sources itself, a TURN relay by its permissions). `sdp_host`/`sdp_port`:
    // what the peer's SDP said. Call while its udpsrc is stopped.
    void reset(GstElement *sink, SourcePolicy policy, const std::string &sdp_host, int sdp_port,
               const char *label, StrangerLog log);
    void clear() { reset(nullptr, SourcePolicy::Learn, "", 0, "", nullptr); }
    // On the udpsrc's streaming thread, for each received buffer: false = drop it.
    bool accept(GstBuffer *buffer);

private:
    GstElement *sink_ = nullptr;
    SourceFilter filter_;
    std::string label_;
    StrangerLog log_;
};

} // namespace sipsofia
