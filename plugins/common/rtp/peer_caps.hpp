// Whether the element a pad leads to takes a codec as RTP: a node forwards
// its RTP (no depayloading here, no payloading there) only where the next
// one says so explicitly; ANY (a sink that takes everything) does not count.
#pragma once

#include <gst/gst.h>

namespace mgwrtp {

// `media`, `encoding_name` and `clock_rate` as in application/x-rtp caps.
bool peer_takes_rtp(GstPad *pad, const char *media, const char *encoding_name, int clock_rate);

} // namespace mgwrtp
