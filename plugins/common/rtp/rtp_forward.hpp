// RTP forwarded as RTP into another RTP session, when the codec is the same
// on both sides: no depayloading and payloading again. Used for a browser's
// session (webrtc-direct: the SIP node passes the caller's packets on) and
// for the SIP leg's send side (sip-sofia: the echo, another leg's RTP). What
// the receiving end must see changes:
//   - the payload type and SSRC are the session's (its SDP announced them);
//   - sequence numbers and timestamps are the source's, shifted so that
//     they run on when the source's stream changes (a new SSRC: a phone
//     restarting its stream) and start at a random offset for each session;
//   - header extensions are dropped (their ids were negotiated with the
//     source, not with this session's peer).
// attach() installs it as a probe on the pad that feeds the session (its caps
// event is replaced with the session's caps); rewrite() is the packet's part
// alone. Streaming thread only.
#pragma once

#include <gst/gst.h>

#include <cstdint>

namespace mgwrtp {

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
    // A probe's buffer or buffer list rewritten in place (info->data may be
    // replaced); DROP when nothing of it is RTP.
    GstPadProbeReturn rewrite_data(GstPadProbeInfo *info);

    // What may come in: the codec's RTP, any payload type and SSRC (a new reference).
    GstCaps *incoming_caps() const;

    // The next packet starts another stream (the feeding path changed: a
    // payloader instead of forwarded RTP): run on from the last packet, as
    // over a change of the source's SSRC. Streaming thread.
    void restart() { restart_ = true; }

private:
    static GstPadProbeReturn probe(GstPad *, GstPadProbeInfo *info, gpointer self);

    GstCaps *caps_;
    guint8 pt_;
    guint32 ssrc_;
    guint clock_rate_;
    bool started_ = false;
    bool restart_ = false;
    guint32 in_ssrc_ = 0;
    guint16 seq_delta_;   // out = in + delta (mod 2^16)
    guint32 ts_delta_;    // out = in + delta (mod 2^32)
    guint16 last_seq_ = 0;
    guint32 last_ts_ = 0;
    GstClockTime last_pts_ = GST_CLOCK_TIME_NONE;
};

} // namespace mgwrtp
