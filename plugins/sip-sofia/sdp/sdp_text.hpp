// A peer's SDP text as a GstSDPMessage owned by a unique_ptr.
#pragma once

#include <gst/sdp/sdp.h>

#include <memory>
#include <string>

namespace sipsofia {

struct SdpFree {
    void operator()(GstSDPMessage *m) const { gst_sdp_message_free(m); }
};
using SdpPtr = std::unique_ptr<GstSDPMessage, SdpFree>;

// nullptr when GstSDP cannot read `text` (and for "", on which it asserts).
// GstSDP takes almost any text: callers check what they need (v=, m=).
inline SdpPtr parse_sdp(const std::string &text)
{
    GstSDPMessage *raw = nullptr;
    if (text.empty())
        return nullptr;
    const bool ok = gst_sdp_message_new_from_text(text.c_str(), &raw) == GST_SDP_OK;
    SdpPtr msg(raw);
    return ok ? std::move(msg) : nullptr;
}

} // namespace sipsofia
