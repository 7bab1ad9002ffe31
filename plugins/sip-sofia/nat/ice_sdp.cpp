#include "nat/ice_sdp.hpp"
#include "sdp/sdp_text.hpp"

#include <gst/sdp/sdp.h>

#include <cstring>
#include <memory>

namespace sipsofia {

namespace {

SdpPtr parse(const std::string &text)
{
    SdpPtr msg = parse_sdp(text);
    if (!msg)
        return nullptr;
    GstSDPMessage *raw = msg.get();
    // GstSDP takes almost any text: an SDP has at least v= and an m= line.
    if (!gst_sdp_message_get_version(raw) || gst_sdp_message_medias_len(raw) == 0)
        return nullptr;
    return msg;
}

// Media level first, then session level (RFC 8839 section 5.4).
std::string attribute(const GstSDPMessage *msg, const GstSDPMedia *m, const char *name)
{
    if (const char *v = gst_sdp_media_get_attribute_val(m, name))
        return v;
    const char *v = gst_sdp_message_get_attribute_val(msg, name);
    return v ? v : "";
}

// "foundation component transport priority address port typ type ...":
// UDP only (ICE-TCP is off here).
bool udp_candidate(const char *value)
{
    gchar **t = g_strsplit_set(value, " ", 4);
    const bool ok = t[0] && t[1] && t[2] && !g_ascii_strcasecmp(t[2], "UDP");
    g_strfreev(t);
    return ok;
}

RemoteIce read_media(const GstSDPMessage *msg, const GstSDPMedia *m)
{
    RemoteIce r;
    r.ufrag = attribute(msg, m, "ice-ufrag");
    r.pwd = attribute(msg, m, "ice-pwd");
    r.lite = gst_sdp_message_get_attribute_val(msg, "ice-lite") != nullptr;
    r.rtcp_mux = gst_sdp_media_get_attribute_val(m, "rtcp-mux") != nullptr;
    for (guint i = 0;; ++i) {
        const char *v = gst_sdp_media_get_attribute_val_n(m, "candidate", i);
        if (!v)
            break;
        if (udp_candidate(v))
            r.candidates.push_back(std::string("candidate:") + v);
    }
    r.present = !r.ufrag.empty() && !r.pwd.empty() && !r.candidates.empty();
    return r;
}

// Index of the first `kind` m= line with a port, -1 when none.
int first_active(const GstSDPMessage *msg, const char *kind)
{
    for (guint i = 0; i < gst_sdp_message_medias_len(msg); ++i) {
        const GstSDPMedia *m = gst_sdp_message_get_media(msg, i);
        if (!g_strcmp0(gst_sdp_media_get_media(m), kind) && gst_sdp_media_get_port(m) != 0)
            return static_cast<int>(i);
    }
    return -1;
}

void add_to(GstSDPMedia *m, const LocalIce &ice)
{
    gst_sdp_media_add_attribute(m, "ice-ufrag", ice.ufrag.c_str());
    gst_sdp_media_add_attribute(m, "ice-pwd", ice.pwd.c_str());
    for (auto &c : ice.candidates) // stored with the "candidate:" name
        gst_sdp_media_add_attribute(m, "candidate", c.substr(std::strlen("candidate:")).c_str());
    if (ice.rtcp_mux && !gst_sdp_media_get_attribute_val(m, "rtcp-mux"))
        gst_sdp_media_add_attribute(m, "rtcp-mux", nullptr);
}

} // namespace

RemoteIceMedia remote_ice(const std::string &sdp)
{
    RemoteIceMedia out;
    SdpPtr msg = parse(sdp);
    if (!msg)
        return out;
    if (int i = first_active(msg.get(), "audio"); i >= 0)
        out.audio = read_media(msg.get(), gst_sdp_message_get_media(msg.get(), static_cast<guint>(i)));
    if (int i = first_active(msg.get(), "video"); i >= 0)
        out.video = read_media(msg.get(), gst_sdp_message_get_media(msg.get(), static_cast<guint>(i)));
    return out;
}

std::string add_local_ice(const std::string &sdp, const LocalIce *audio, const LocalIce *video)
{
    SdpPtr msg = parse(sdp);
    if (!msg)
        return "";
    // The media array owns its entries: edit them in place.
    for (auto [kind, ice] : {std::pair{"audio", audio}, std::pair{"video", video}}) {
        const int i = ice ? first_active(msg.get(), kind) : -1;
        if (i >= 0)
            add_to(const_cast<GstSDPMedia *>(gst_sdp_message_get_media(msg.get(), static_cast<guint>(i))), *ice);
    }
    gchar *text = gst_sdp_message_as_text(msg.get());
    std::string out = text;
    g_free(text);
    return out;
}

} // namespace sipsofia
