#include "rtp/peer_caps.hpp"

namespace mgwrtp {

bool peer_takes_rtp(GstPad *pad, const char *media, const char *encoding_name, int clock_rate)
{
    GstCaps *wanted = gst_caps_new_simple("application/x-rtp", "media", G_TYPE_STRING, media, "encoding-name",
                                          G_TYPE_STRING, encoding_name, "clock-rate", G_TYPE_INT, clock_rate, nullptr);
    GstCaps *peer = gst_pad_peer_query_caps(pad, nullptr);
    bool yes = false;
    for (guint i = 0; peer && !gst_caps_is_any(peer) && i < gst_caps_get_size(peer) && !yes; ++i) {
        GstCaps *one = gst_caps_copy_nth(peer, i);
        yes = gst_structure_has_name(gst_caps_get_structure(one, 0), "application/x-rtp") &&
              gst_caps_can_intersect(one, wanted);
        gst_caps_unref(one);
    }
    if (peer)
        gst_caps_unref(peer);
    gst_caps_unref(wanted);
    return yes;
}

} // namespace mgwrtp
