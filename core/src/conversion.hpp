// What to put between two ports once the caps that flow are known.
#pragma once

#include <gst/gst.h>

#include <string>
#include <vector>

namespace mediagw {

struct ConversionPlan {
    bool ok = true;               // false: no way found, see `why`
    std::vector<std::string> elements; // factory names, upstream first; empty = passthrough
    std::string why;              // one line for the log: what and why
    bool passthrough() const { return ok && elements.empty(); }
};

// `input`: the fixed caps arriving; `accepted`: what the downstream port takes.
// RTP arriving where it is not taken is depayloaded behind a jitter buffer
// of kLinkJitterMs, then planned as the encoded media it carries.
ConversionPlan plan_conversion(const GstCaps *input, const GstCaps *accepted);

// The jitter buffer before a depayloader on a link, in ms: as the nodes'
// own defaults (webrtc-direct's jitter_ms).
constexpr guint kLinkJitterMs = 40;

// The best depayloader for these RTP caps ("" if none).
std::string find_depayloader(const GstCaps *rtp);

// Create an element of the plan with live-friendly settings (encoders tuned
// for real time). nullptr if the factory is missing.
GstElement *make_conversion_element(const std::string &factory);

} // namespace mediagw
