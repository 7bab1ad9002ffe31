// What rtpbin gets instead of a jitter buffer for a stream that is forwarded
// as RTP (rtpbin's request-jitterbuffer): packets pass as they come, on the
// thread they came on, in the order they came, like behind any relay; the
// far end's jitter buffer absorbs the jitter. Keyframe requests and other
// events pass both ways. It has what rtpbin and webrtcbin set and read on a
// jitter buffer, so that neither warns:
//   - "latency" and "do-retransmission" are kept and not acted on (no NACK
//     leaves for a forwarded stream: the far end asks for a keyframe);
//   - "stats" counts what passed and what is missing by sequence number
//     (num-lost, as RFC 3550's cumulative loss; never negative), for
//     webrtcbin's inbound packetsLost; it drops nothing (num-late 0).
// sip-sofia and webrtc-direct both link it: rtp_pass_type() registers the
// GType once per process (the second module finds the first one's; both
// are never unloaded, -z nodelete). Call it on the main thread before any
// streaming thread can.
#pragma once

#include <gst/gst.h>

namespace mgwrtp {

GType rtp_pass_type();
GstElement *make_rtp_pass(); // floating, as gst_element_factory_make's

} // namespace mgwrtp
