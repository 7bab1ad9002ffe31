#include "sdp/sdp_checks.hpp"
#include "sdp/sdp_text.hpp"

#include <gst/sdp/sdp.h>

#include <cstring>
#include <memory>

namespace sipsofia {

namespace {

const GstSDPMedia *first_audio(const GstSDPMessage *m)
{
    for (guint i = 0; m && i < gst_sdp_message_medias_len(m); ++i) {
        const GstSDPMedia *media = gst_sdp_message_get_media(m, i);
        if (gst_sdp_media_get_media(media) && !std::strcmp(gst_sdp_media_get_media(media), "audio") &&
            gst_sdp_media_get_port(media) != 0)
            return media;
    }
    return nullptr;
}

} // namespace

bool sdp_is_hold(const std::string &sdp)
{
    SdpPtr msg = parse_sdp(sdp);
    const GstSDPMedia *m = first_audio(msg.get());
    if (!m)
        return false;
    for (const char *dir : {"sendonly", "inactive"})
        if (gst_sdp_media_get_attribute_val(m, dir) ||
            (!gst_sdp_media_get_attribute_val(m, "sendrecv") && !gst_sdp_media_get_attribute_val(m, "recvonly") &&
             gst_sdp_message_get_attribute_val(msg.get(), dir)))
            return true;
    const GstSDPConnection *c = gst_sdp_media_connections_len(m) > 0 ? gst_sdp_media_get_connection(m, 0)
                                                                       : gst_sdp_message_get_connection(msg.get());
    return c && c->address && !std::strcmp(c->address, "0.0.0.0");
}

int sdp_check(const std::string &sdp, std::string &why)
{
    SdpPtr msg = parse_sdp(sdp);
    if (!msg || !gst_sdp_message_get_version(msg.get())) {
        why = "unparsable SDP (no v= line)";
        return 400;
    }
    const guint n = gst_sdp_message_medias_len(msg.get());
    if (n == 0) {
        why = "SDP without m= lines";
        return 400;
    }
    for (guint i = 0; i < n; ++i) {
        const GstSDPMedia *m = gst_sdp_message_get_media(msg.get(), i);
        const guint port = gst_sdp_media_get_port(m);
        if (port > 65535 || gst_sdp_media_get_num_ports(m) > 65535) {
            why = "m= line " + std::to_string(i + 1) + ": port " + std::to_string(port) + " out of range";
            return 400;
        }
        if (!gst_sdp_media_get_media(m) || !gst_sdp_media_get_proto(m) || gst_sdp_media_formats_len(m) == 0) {
            why = "m= line " + std::to_string(i + 1) + " is incomplete";
            return 400;
        }
        const GstSDPConnection *c = gst_sdp_media_connections_len(m) > 0 ? gst_sdp_media_get_connection(m, 0)
                                                                           : gst_sdp_message_get_connection(msg.get());
        if (port != 0 && (!c || !c->address || !*c->address)) {
            why = "m= line " + std::to_string(i + 1) + " has no connection address (c=)";
            return 400;
        }
    }
    return 0;
}

} // namespace sipsofia
