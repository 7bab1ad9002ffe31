#include "media/offer.hpp"

#include <gst/sdp/sdp.h>

#include <algorithm>
#include <cstring>

namespace webrtcdirect {
namespace {

const char *attribute(const GstSDPMessage *msg, const GstSDPMedia *m, const char *key)
{
    const char *v = gst_sdp_media_get_attribute_val(m, key);
    return v ? v : gst_sdp_message_get_attribute_val(msg, key);
}

} // namespace

// Hostile input: a checked conversion (sscanf's %d overflows, which is
// undefined behaviour) and a bounded name.
bool parse_rtpmap(const char *value, int &payload, std::string &encoding)
{
    const char *space = value ? strchr(value, ' ') : nullptr;
    if (!space)
        return false;
    const std::string number(value, space - value);
    guint64 pt = 0;
    if (!g_ascii_string_to_unsigned(number.c_str(), 10, 0, 127, &pt, nullptr))
        return false;
    const char *name = space + 1;
    const size_t length = strcspn(name, "/");
    if (length == 0 || length > 32 || name[length] != '/')
        return false;
    payload = (int)pt;
    encoding.assign(name, length);
    return true;
}

namespace {

// "a=rtpmap:111 opus/48000/2" -> payload 111 when the encoding name matches.
std::vector<int> payloads_for(const GstSDPMedia *m, const char *codec)
{
    std::vector<int> out;
    for (guint i = 0; i < gst_sdp_media_attributes_len(m); ++i) {
        const GstSDPAttribute *a = gst_sdp_media_get_attribute(m, i);
        if (!a->key || strcmp(a->key, "rtpmap") != 0)
            continue;
        int pt = -1;
        std::string name;
        if (parse_rtpmap(a->value, pt, name) && g_ascii_strcasecmp(name.c_str(), codec) == 0)
            out.push_back(pt);
    }
    return out;
}

std::string fmtp_of(const GstSDPMedia *m, int pt)
{
    const std::string prefix = std::to_string(pt) + " ";
    for (guint i = 0; i < gst_sdp_media_attributes_len(m); ++i) {
        const GstSDPAttribute *a = gst_sdp_media_get_attribute(m, i);
        if (a->key && strcmp(a->key, "fmtp") == 0 && a->value && g_str_has_prefix(a->value, prefix.c_str()))
            return a->value + prefix.size();
    }
    return "";
}

// H.264 we send and receive: packetization-mode 1 (what browsers and our
// payloader use), constrained baseline first: every decoder takes it.
int pick_h264(const GstSDPMedia *m, std::string &fmtp)
{
    int best = -1, best_rank = 0;
    for (int pt : payloads_for(m, "H264")) {
        std::string f = fmtp_of(m, pt);
        if (f.find("packetization-mode=1") == std::string::npos)
            continue;
        int rank = f.find("profile-level-id=42e0") != std::string::npos ? 3
                   : f.find("profile-level-id=4200") != std::string::npos ? 2 : 1;
        if (rank > best_rank) {
            best = pt, best_rank = rank, fmtp = f;
        }
    }
    return best;
}

} // namespace

bool parse_offer(const std::string &sdp, const std::vector<std::string> &video_codecs, Offer &out,
                 std::string &error)
{
    if (sdp.rfind("v=0", 0) != 0) {
        error = "not an SDP body (it must start with \"v=0\")";
        return false;
    }
    GstSDPMessage *msg = nullptr;
    gst_sdp_message_new(&msg);
    bool ok = gst_sdp_message_parse_buffer(reinterpret_cast<const guint8 *>(sdp.data()), (guint)sdp.size(), msg) ==
              GST_SDP_OK;
    if (!ok)
        error = "unparsable SDP";
    else if (gst_sdp_message_medias_len(msg) == 0)
        error = "SDP has no m= line", ok = false;
    for (guint i = 0; ok && i < gst_sdp_message_medias_len(msg); ++i) {
        const GstSDPMedia *m = gst_sdp_message_get_media(msg, i);
        const std::string where = "m= line " + std::to_string(i + 1);
        OfferedMedia om;
        om.kind = m->media ? m->media : "";
        // Port 0 rejects the m-line unless it is bundle-only (RFC 8843: a
        // max-bundle offerer, webrtcbin for one, sends later m-lines so).
        om.port_zero = gst_sdp_media_get_port(m) == 0 && !gst_sdp_media_get_attribute_val(m, "bundle-only");
        if (const char *mid = gst_sdp_media_get_attribute_val(m, "mid"))
            om.mid = mid;
        const char *proto = gst_sdp_media_get_proto(m);
        if (!proto || !strstr(proto, "SAVPF")) {
            error = where + ": protocol " + (proto ? proto : "(none)") + " is not WebRTC's UDP/TLS/RTP/SAVPF";
            ok = false;
        } else if (!attribute(msg, m, "ice-ufrag") || !attribute(msg, m, "ice-pwd")) {
            error = where + ": no a=ice-ufrag / a=ice-pwd";
            ok = false;
        } else if (!attribute(msg, m, "fingerprint")) {
            error = where + ": no a=fingerprint (DTLS is required)";
            ok = false;
        }
        if (!ok)
            break;
        if (om.kind == "audio") {
            auto pts = payloads_for(m, "opus");
            if (!pts.empty())
                om.payload = pts.front(), om.codec = "OPUS", om.fmtp = fmtp_of(m, pts.front());
        } else if (om.kind == "video") {
            for (const auto &c : video_codecs) {
                if (c == "VP8") {
                    auto pts = payloads_for(m, "VP8");
                    if (!pts.empty())
                        om.payload = pts.front();
                } else if (c == "H264") {
                    om.payload = pick_h264(m, om.fmtp);
                }
                if (om.payload >= 0) {
                    om.codec = c;
                    break;
                }
            }
        }
        out.media.push_back(om);
    }
    gst_sdp_message_free(msg);
    if (ok && std::none_of(out.media.begin(), out.media.end(), [](auto &m) { return m.payload >= 0; })) {
        error = "no usable codec offered (audio: Opus; video: VP8 or H.264 packetization-mode=1)";
        ok = false;
    }
    return ok;
}

} // namespace webrtcdirect
