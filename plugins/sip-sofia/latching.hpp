// Symmetric RTP (RFC 4961 practice, "latching"): send to where the peer's
// packets come from, not to what its SDP says, so that a caller behind NAT
// hears us. The first packet's source wins; with `strict`, packets from any
// other source are dropped from then on.
#pragma once

#include <gio/gio.h>
#include <gst/gst.h>

namespace sipsofia {

class Latch {
public:
    Latch() = default;
    ~Latch() { reset(nullptr, false); }
    Latch(const Latch &) = delete;
    Latch &operator=(const Latch &) = delete;

    // `sink`: the udpsink to redirect (borrowed; a sink without a "host"
    // property is left alone). Call while its udpsrc is stopped.
    void reset(GstElement *sink, bool strict);
    // On the udpsrc's streaming thread, for each received buffer: false = drop it.
    bool accept(GstBuffer *buffer);

private:
    GstElement *sink_ = nullptr;
    bool strict_ = false;
    GInetAddress *address_ = nullptr;
    guint16 port_ = 0;
};

} // namespace sipsofia
