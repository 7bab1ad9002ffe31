#include "sdp_negotiation.hpp"

#include <gst/sdp/sdp.h>

#include <cstdlib>
#include <cstring>
#include <memory>

namespace sipsofia {

namespace {

struct SdpFree {
    void operator()(GstSDPMessage *m) const { gst_sdp_message_free(m); }
};
using SdpPtr = std::unique_ptr<GstSDPMessage, SdpFree>;

// Static payload types of RFC 3551 that we can carry.
const char *static_encoding(int pt)
{
    switch (pt) {
    case 0: return "PCMU";
    case 8: return "PCMA";
    default: return nullptr;
    }
}

bool parse_int(const char *s, int &out)
{
    if (!s || !*s)
        return false;
    char *end = nullptr;
    long v = std::strtol(s, &end, 10);
    if (*end != '\0' && *end != ' ' && *end != '/')
        return false;
    out = static_cast<int>(v);
    return v >= 0 && v <= 65535;
}

// "a=rtpmap:PT NAME/RATE[/CH]" of the media for payload type `pt`.
bool rtpmap_of(const GstSDPMedia *m, int pt, std::string &name, int &rate)
{
    for (guint i = 0;; ++i) {
        const char *v = gst_sdp_media_get_attribute_val_n(m, "rtpmap", i);
        if (!v)
            return false;
        int p = -1;
        if (!parse_int(v, p) || p != pt)
            continue;
        const char *sp = std::strchr(v, ' ');
        if (!sp)
            return false;
        std::string enc = sp + 1;
        auto slash = enc.find('/');
        name = enc.substr(0, slash);
        rate = 0;
        if (slash != std::string::npos && !parse_int(enc.c_str() + slash + 1, rate))
            rate = 0;
        return true;
    }
}

std::string upper(std::string s)
{
    for (auto &c : s)
        c = static_cast<char>(g_ascii_toupper(c));
    return s;
}

// The stream's direction, media level first, then session level.
const char *direction_of(const GstSDPMessage *msg, const GstSDPMedia *m)
{
    static const char *const dirs[] = {"sendrecv", "sendonly", "recvonly", "inactive"};
    for (auto d : dirs)
        if (gst_sdp_media_get_attribute_val(m, d))
            return d;
    for (auto d : dirs)
        if (gst_sdp_message_get_attribute_val(msg, d))
            return d;
    return "sendrecv";
}

const char *answer_direction(const char *offered)
{
    if (!std::strcmp(offered, "sendonly"))
        return "recvonly";
    if (!std::strcmp(offered, "recvonly"))
        return "sendonly";
    return offered;
}

const char *addrtype(const std::string &address) { return address.find(':') != std::string::npos ? "IP6" : "IP4"; }

Negotiation refuse(int status, std::string reason)
{
    Negotiation n;
    n.status = status;
    n.reason = std::move(reason);
    return n;
}

} // namespace

bool codec_supported(const std::string &name)
{
    const std::string n = upper(name);
    return n == "PCMU" || n == "PCMA";
}

Negotiation negotiate(const std::string &offer_text, const std::vector<std::string> &codecs, const LocalMedia &local)
{
    if (offer_text.empty())
        return refuse(488, "INVITE without SDP offer is not supported");
    GstSDPMessage *raw = nullptr;
    if (gst_sdp_message_new_from_text(offer_text.c_str(), &raw) != GST_SDP_OK || !raw)
        return refuse(400, "unparsable SDP");
    SdpPtr offer(raw);
    if (!gst_sdp_message_get_version(raw) || gst_sdp_message_medias_len(raw) == 0)
        return refuse(400, "SDP without v= or m= lines");

    Negotiation result;
    int chosen_index = -1;
    for (guint i = 0; i < gst_sdp_message_medias_len(raw) && chosen_index < 0; ++i) {
        const GstSDPMedia *m = gst_sdp_message_get_media(raw, i);
        const char *media = gst_sdp_media_get_media(m);
        const char *proto = gst_sdp_media_get_proto(m);
        if (!media || !proto || std::strcmp(media, "audio") || std::strcmp(proto, "RTP/AVP") ||
            gst_sdp_media_get_port(m) == 0)
            continue;
        // The offerer's order is its preference (RFC 3264 section 5.1).
        for (guint f = 0; f < gst_sdp_media_formats_len(m) && chosen_index < 0; ++f) {
            int pt = -1;
            if (!parse_int(gst_sdp_media_get_format(m, f), pt) || pt > 127)
                continue;
            std::string name;
            int rate = 8000;
            if (!rtpmap_of(m, pt, name, rate)) {
                const char *s = static_encoding(pt);
                if (!s)
                    continue;
                name = s;
            }
            name = upper(name);
            if (rate != 8000 || !codec_supported(name))
                continue;
            for (auto &c : codecs)
                if (upper(c) == name) {
                    result.codec.name = name;
                    result.codec.payload_type = pt;
                    chosen_index = static_cast<int>(i);
                    break;
                }
        }
    }
    if (chosen_index < 0)
        return refuse(488, "no audio stream with a common codec (we take " + [&] {
                          std::string s;
                          for (auto &c : codecs)
                              s += (s.empty() ? "" : ",") + c;
                          return s;
                      }() + " over RTP/AVP)");

    const GstSDPMedia *m = gst_sdp_message_get_media(raw, static_cast<guint>(chosen_index));
    const GstSDPConnection *conn = gst_sdp_media_connections_len(m) > 0 ? gst_sdp_media_get_connection(m, 0)
                                                                          : gst_sdp_message_get_connection(raw);
    if (!conn || !conn->address || !*conn->address)
        return refuse(400, "SDP without a connection address (c=)");
    result.remote_address = conn->address;
    result.remote_rtp_port = static_cast<int>(gst_sdp_media_get_port(m));
    result.remote_rtcp_port = result.remote_rtp_port + 1;
    int rtcp = 0;
    if (parse_int(gst_sdp_media_get_attribute_val(m, "rtcp"), rtcp) && rtcp > 0)
        result.remote_rtcp_port = rtcp;
    int ptime = 0;
    if (parse_int(gst_sdp_media_get_attribute_val(m, "ptime"), ptime) && ptime >= 10 && ptime <= 120 &&
        ptime % 10 == 0)
        result.codec.ptime_ms = ptime;
    const char *offered_dir = direction_of(raw, m);
    // An old-style hold (c=0.0.0.0) sends nothing either.
    result.remote_sends = std::strcmp(offered_dir, "recvonly") && std::strcmp(offered_dir, "inactive") &&
                          result.remote_address != "0.0.0.0";

    GstSDPMessage *answer = nullptr;
    gst_sdp_message_new(&answer);
    SdpPtr answer_owner(answer);
    const std::string sess_id = std::to_string(local.session_id);
    const std::string version = std::to_string(local.version);
    gst_sdp_message_set_version(answer, "0");
    gst_sdp_message_set_origin(answer, "mediagw", sess_id.c_str(), version.c_str(), "IN", addrtype(local.address),
                               local.address.c_str());
    gst_sdp_message_set_session_name(answer, "mediagw");
    gst_sdp_message_set_connection(answer, "IN", addrtype(local.address), local.address.c_str(), 0, 0);
    gst_sdp_message_add_time(answer, "0", "0", nullptr);
    for (guint i = 0; i < gst_sdp_message_medias_len(raw); ++i) {
        const GstSDPMedia *om = gst_sdp_message_get_media(raw, i);
        GstSDPMedia am{}; // zeroed: init() frees what it finds
        gst_sdp_media_init(&am);
        gst_sdp_media_set_media(&am, gst_sdp_media_get_media(om) ? gst_sdp_media_get_media(om) : "unknown");
        gst_sdp_media_set_proto(&am, gst_sdp_media_get_proto(om) ? gst_sdp_media_get_proto(om) : "RTP/AVP");
        if (static_cast<int>(i) == chosen_index) {
            const std::string pt = std::to_string(result.codec.payload_type);
            gst_sdp_media_set_port_info(&am, static_cast<guint>(local.rtp_port), 1);
            gst_sdp_media_add_format(&am, pt.c_str());
            gst_sdp_media_add_attribute(&am, "rtpmap", (pt + " " + result.codec.name + "/8000").c_str());
            gst_sdp_media_add_attribute(&am, "ptime", std::to_string(result.codec.ptime_ms).c_str());
            gst_sdp_media_add_attribute(&am, answer_direction(offered_dir), nullptr);
        } else {
            // Refused stream: port 0 with the offered formats (a format is mandatory).
            gst_sdp_media_set_port_info(&am, 0, 1);
            for (guint f = 0; f < gst_sdp_media_formats_len(om); ++f)
                gst_sdp_media_add_format(&am, gst_sdp_media_get_format(om, f));
            if (gst_sdp_media_formats_len(om) == 0)
                gst_sdp_media_add_format(&am, "0");
        }
        gst_sdp_message_add_media(answer, &am); // takes the contents of `am`
    }
    gchar *text = gst_sdp_message_as_text(answer);
    result.answer = text;
    g_free(text);
    result.ok = true;
    result.status = 200;
    return result;
}

} // namespace sipsofia
