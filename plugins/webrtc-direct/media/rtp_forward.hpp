// Forwarding the caller's RTP as RTP into a browser's session (the SIP node
// passes it on untouched when the codec is the same on both legs): no
// depayloading and payloading again. What the browser must see changes:
//   - the payload type and SSRC are the session's (its SDP announced them);
//   - sequence numbers and timestamps are the caller's, shifted so that
//     they run on when the caller's stream changes (a new SSRC: a phone
//     restarting its stream) and start at a random offset for each browser;
//   - header extensions are dropped (their ids are the SIP leg's, not the
//     ones negotiated with the browser).
// Installed as a probe on the pad that feeds webrtcbin; its caps event is
// replaced with the session's caps. Streaming thread only.
#pragma once

#include <gst/gst.h>

#include <cstdint>

namespace webrtcdirect {

class RtpForward {
public:
    // `caps`: what webrtcbin's sink pad takes (payload and ssrc set); a ref is taken.
    RtpForward(GstCaps *caps, guint8 payload_type, guint32 ssrc, guint clock_rate);
    ~RtpForward();
    RtpForward(const RtpForward &) = delete;
    RtpForward &operator=(const RtpForward &) = delete;

    // Adds the probe on `pad` (the pad linked to webrtcbin); the probe owns this.
    static void attach(GstPad *pad, RtpForward *forward);

    // The rewrite of one packet, in place or into a new buffer that replaces
    // *buffer (public for the unit test). false: not RTP, to be dropped
    // (*buffer still valid). Its PTS measures the time over a change of the
    // caller's SSRC.
    bool rewrite(GstBuffer **buffer);

private:
    GstCaps *incoming_caps() const; // the codec's RTP, any payload type and SSRC
    static GstPadProbeReturn probe(GstPad *, GstPadProbeInfo *info, gpointer self);

    GstCaps *caps_;
    guint8 pt_;
    guint32 ssrc_;
    guint clock_rate_;
    bool started_ = false;
    guint32 in_ssrc_ = 0;
    guint16 seq_delta_;   // out = in + delta (mod 2^16)
    guint32 ts_delta_;    // out = in + delta (mod 2^32)
    guint16 last_seq_ = 0;
    guint32 last_ts_ = 0;
    GstClockTime last_pts_ = GST_CLOCK_TIME_NONE;
};

} // namespace webrtcdirect
