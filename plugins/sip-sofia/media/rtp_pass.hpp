// What rtpbin gets instead of a jitter buffer for a stream that forwards RTP
// (rtpbin's request-jitterbuffer): packets pass as they come, on the thread
// they came on, in the order they came. rtpbin sets a jitter buffer's
// "latency" on it: the property exists and is ignored (an identity would
// make GLib warn). Keyframe requests and other events pass both ways.
#pragma once

#include <gst/gst.h>

namespace sipsofia {

GstElement *make_rtp_pass(); // floating, as gst_element_factory_make's

} // namespace sipsofia
