#include "sdp/sdp_negotiation.hpp"

#include <gst/sdp/sdp.h>

#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <optional>

namespace sipsofia {

namespace {

struct SdpFree {
    void operator()(GstSDPMessage *m) const { gst_sdp_message_free(m); }
};
using SdpPtr = std::unique_ptr<GstSDPMessage, SdpFree>;

// Ports, payload types, clock rates (video: 90000).
bool parse_int(const char *s, int &out)
{
    if (!s || !*s)
        return false;
    char *end = nullptr;
    long v = std::strtol(s, &end, 10);
    if (end == s || (*end != '\0' && *end != ' ' && *end != '/'))
        return false;
    out = static_cast<int>(v);
    return v >= 0 && v <= 10000000;
}

std::string trim(const std::string &s)
{
    auto b = s.find_first_not_of(" \t");
    auto e = s.find_last_not_of(" \t");
    return b == std::string::npos ? "" : s.substr(b, e - b + 1);
}

std::string lower(std::string s)
{
    for (auto &c : s)
        c = static_cast<char>(g_ascii_tolower(c));
    return s;
}

// "a=fmtp" parameters: "key=value;key=value" (keys lower-cased).
std::map<std::string, std::string> fmtp_params(const std::string &fmtp)
{
    std::map<std::string, std::string> out;
    size_t pos = 0;
    while (pos <= fmtp.size()) {
        size_t semi = fmtp.find(';', pos);
        std::string item = trim(fmtp.substr(pos, semi == std::string::npos ? std::string::npos : semi - pos));
        auto eq = item.find('=');
        if (!item.empty())
            out[lower(trim(item.substr(0, eq)))] = eq == std::string::npos ? "" : trim(item.substr(eq + 1));
        if (semi == std::string::npos)
            break;
        pos = semi + 1;
    }
    return out;
}

// One format of an m= line with what a= lines say about it.
struct Format {
    int pt = -1;
    std::string name; // as written
    int rate = 0;
    int channels = 0;
    std::string fmtp;
    std::vector<std::string> feedback; // "nack pli", "ccm fir", ... (incl. "*" lines)
};

// "PT rest" attribute values of `attr` that apply to `pt` (or "*" when `wildcard`).
std::vector<std::string> attrs_for(const GstSDPMedia *m, const char *attr, int pt, bool wildcard)
{
    std::vector<std::string> out;
    for (guint i = 0;; ++i) {
        const char *v = gst_sdp_media_get_attribute_val_n(m, attr, i);
        if (!v)
            break;
        const char *sp = std::strchr(v, ' ');
        if (!sp)
            continue;
        int p = -1;
        const bool star = wildcard && v[0] == '*';
        if (star || (parse_int(v, p) && p == pt))
            out.push_back(trim(sp + 1));
    }
    return out;
}

const char *static_encoding(int pt)
{
    switch (pt) {
    case 0: return "PCMU";
    case 8: return "PCMA";
    case 9: return "G722";
    default: return nullptr;
    }
}

std::vector<Format> formats_of(const GstSDPMedia *m)
{
    std::vector<Format> out;
    for (guint f = 0; f < gst_sdp_media_formats_len(m); ++f) {
        Format fmt;
        if (!parse_int(gst_sdp_media_get_format(m, f), fmt.pt) || fmt.pt > 127)
            continue;
        auto rtpmap = attrs_for(m, "rtpmap", fmt.pt, false);
        if (!rtpmap.empty()) {
            // NAME/RATE[/CHANNELS]
            gchar **parts = g_strsplit(rtpmap.front().c_str(), "/", 3);
            fmt.name = parts[0] ? parts[0] : "";
            if (parts[0] && parts[1] && !parse_int(parts[1], fmt.rate))
                fmt.rate = 0;
            if (parts[0] && parts[1] && parts[2] && !parse_int(parts[2], fmt.channels))
                fmt.channels = 0;
            g_strfreev(parts);
        } else if (const char *s = static_encoding(fmt.pt)) {
            fmt.name = s;
            fmt.rate = 8000;
        } else {
            continue;
        }
        auto fmtp = attrs_for(m, "fmtp", fmt.pt, false);
        if (!fmtp.empty())
            fmt.fmtp = fmtp.front();
        for (auto &fb : attrs_for(m, "rtcp-fb", fmt.pt, true))
            fmt.feedback.push_back(lower(fb));
        out.push_back(std::move(fmt));
    }
    return out;
}

// H.264 profiles our elements handle both ways (avdec_h264 decodes all of
// them; the encoders the core picks do baseline, main and high).
bool h264_profile_ok(const std::string &plid)
{
    if (plid.size() != 6 || !g_ascii_isxdigit(plid[0]))
        return false;
    const long idc = std::strtol(plid.substr(0, 2).c_str(), nullptr, 16);
    return idc == 0x42 || idc == 0x4d || idc == 0x64;
}

// Whether `f` is codec `info` in a form we can carry; fills `codec` with the
// parameters to answer (or to use, for an answer we received).
bool accept_format(const Format &f, const CodecInfo &info, Codec &codec)
{
    if (g_ascii_strcasecmp(f.name.c_str(), info.name) || f.rate != info.clock_rate)
        return false;
    if (info.channels && f.channels && f.channels != info.channels)
        return false;
    codec = Codec{};
    codec.name = info.name;
    codec.payload_type = f.pt;
    codec.clock_rate = info.clock_rate;
    codec.channels = info.channels;
    if (!std::strcmp(info.name, "opus")) {
        codec.fmtp = "useinbandfec=1";
    } else if (!std::strcmp(info.name, "H264")) {
        auto p = fmtp_params(f.fmtp);
        // rtph264pay fragments large NAL units (FU-A): packetization-mode 1 only.
        if (p["packetization-mode"] != "1")
            return false;
        const std::string plid = p.count("profile-level-id") ? p["profile-level-id"] : "42001f";
        if (!h264_profile_ok(plid))
            return false;
        codec.fmtp = "profile-level-id=" + plid + ";packetization-mode=1";
        if (p.count("level-asymmetry-allowed"))
            codec.fmtp += ";level-asymmetry-allowed=" + p["level-asymmetry-allowed"];
    }
    return true;
}

bool has_feedback(const Format &f, const char *what)
{
    for (auto &fb : f.feedback)
        if (fb == what)
            return true;
    return false;
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

// a=rtcp:PORT IN IP4 ADDR (RFC 3605) when RTCP is not on the RTP port + 1.
void add_rtcp_port(GstSDPMedia *m, int rtp_port, int rtcp_port, const std::string &address)
{
    if (rtcp_port <= 0 || rtcp_port == rtp_port + 1)
        return;
    const std::string value = std::to_string(rtcp_port) + " IN " + addrtype(address) + " " + address;
    gst_sdp_media_add_attribute(m, "rtcp", value.c_str());
}

Negotiation refuse(int status, std::string reason)
{
    Negotiation n;
    n.status = status;
    n.reason = std::move(reason);
    return n;
}

bool usable_proto(const char *proto) { return proto && (!std::strcmp(proto, "RTP/AVP") || !std::strcmp(proto, "RTP/AVPF")); }

bool secure_proto(const char *proto) { return proto && (!std::strcmp(proto, "RTP/SAVP") || !std::strcmp(proto, "RTP/SAVPF")); }

// The first a=crypto line of `m` we can use (the offerer's order of preference).
std::optional<SrtpCrypto> pick_crypto(const GstSDPMedia *m)
{
    for (guint i = 0;; ++i) {
        const char *v = gst_sdp_media_get_attribute_val_n(m, "crypto", i);
        if (!v)
            return std::nullopt;
        if (auto c = parse_crypto(v))
            return c;
    }
}

// Address, ports and direction of m= line `m`; false without a c= address.
bool fill_transport(const GstSDPMessage *msg, const GstSDPMedia *m, Stream &s)
{
    const GstSDPConnection *conn = gst_sdp_media_connections_len(m) > 0 ? gst_sdp_media_get_connection(m, 0)
                                                                          : gst_sdp_message_get_connection(msg);
    if (!conn || !conn->address || !*conn->address)
        return false;
    s.remote_address = conn->address;
    s.remote_rtp_port = static_cast<int>(gst_sdp_media_get_port(m));
    s.remote_rtcp_port = s.remote_rtp_port + 1;
    int rtcp = 0;
    if (parse_int(gst_sdp_media_get_attribute_val(m, "rtcp"), rtcp) && rtcp > 0 && rtcp <= 65535)
        s.remote_rtcp_port = rtcp;
    int ptime = 0;
    if (parse_int(gst_sdp_media_get_attribute_val(m, "ptime"), ptime) && ptime >= 10 && ptime <= 120 &&
        ptime % 10 == 0)
        s.codec.ptime_ms = ptime;
    const char *dir = direction_of(msg, m);
    // An old-style hold (c=0.0.0.0) sends nothing either.
    s.remote_sends = std::strcmp(dir, "recvonly") && std::strcmp(dir, "inactive") && s.remote_address != "0.0.0.0";
    s.remote_receives = std::strcmp(dir, "sendonly") && std::strcmp(dir, "inactive") && s.remote_address != "0.0.0.0";
    return true;
}

// telephone-event in `formats`, preferably at the codec's clock rate.
void pick_dtmf(const std::vector<Format> &formats, Stream &s)
{
    for (auto &f : formats)
        if (!g_ascii_strcasecmp(f.name.c_str(), telephone_event) && f.rate > 0 &&
            (s.dtmf_pt < 0 || f.rate == s.codec.clock_rate)) {
            s.dtmf_pt = f.pt;
            s.dtmf_rate = f.rate;
        }
}

void mirror_audio(Negotiation &n)
{
    n.codec = n.audio.codec;
    n.remote_address = n.audio.remote_address;
    n.remote_rtp_port = n.audio.remote_rtp_port;
    n.remote_rtcp_port = n.audio.remote_rtcp_port;
    n.remote_sends = n.audio.remote_sends;
}

std::string join(const std::vector<std::string> &v)
{
    std::string s;
    for (auto &c : v)
        s += (s.empty() ? "" : ",") + c;
    return s;
}

GstSDPMessage *new_session(const LocalMedia &local)
{
    GstSDPMessage *sdp = nullptr;
    gst_sdp_message_new(&sdp);
    const std::string sess_id = std::to_string(local.session_id);
    const std::string version = std::to_string(local.version);
    gst_sdp_message_set_version(sdp, "0");
    gst_sdp_message_set_origin(sdp, "mediagw", sess_id.c_str(), version.c_str(), "IN", addrtype(local.address),
                               local.address.c_str());
    gst_sdp_message_set_session_name(sdp, "mediagw");
    gst_sdp_message_set_connection(sdp, "IN", addrtype(local.address), local.address.c_str(), 0, 0);
    gst_sdp_message_add_time(sdp, "0", "0", nullptr);
    return sdp;
}

std::string rtpmap_text(int pt, const std::string &name, int rate, int channels)
{
    return std::to_string(pt) + " " + name + "/" + std::to_string(rate) +
           (channels ? "/" + std::to_string(channels) : "");
}

// The a= lines of one codec (rtpmap, fmtp, rtcp-fb) on `m`.
void add_codec(GstSDPMedia *m, const Codec &c, bool pli, bool fir)
{
    const std::string pt = std::to_string(c.payload_type);
    gst_sdp_media_add_format(m, pt.c_str());
    gst_sdp_media_add_attribute(m, "rtpmap", rtpmap_text(c.payload_type, c.name, c.clock_rate, c.channels).c_str());
    if (!c.fmtp.empty())
        gst_sdp_media_add_attribute(m, "fmtp", (pt + " " + c.fmtp).c_str());
    if (pli)
        gst_sdp_media_add_attribute(m, "rtcp-fb", (pt + " nack pli").c_str());
    if (fir)
        gst_sdp_media_add_attribute(m, "rtcp-fb", (pt + " ccm fir").c_str());
}

void add_dtmf(GstSDPMedia *m, int pt, int rate)
{
    const std::string p = std::to_string(pt);
    gst_sdp_media_add_format(m, p.c_str());
    gst_sdp_media_add_attribute(m, "rtpmap", rtpmap_text(pt, telephone_event, rate, 0).c_str());
    gst_sdp_media_add_attribute(m, "fmtp", (p + " 0-16").c_str());
}

std::string as_text(const GstSDPMessage *sdp)
{
    gchar *text = gst_sdp_message_as_text(sdp);
    std::string out = text;
    g_free(text);
    return out;
}

bool parse_sdp(const std::string &text, SdpPtr &out)
{
    GstSDPMessage *raw = nullptr;
    const GstSDPResult parsed = gst_sdp_message_new_from_text(text.c_str(), &raw);
    out.reset(raw); // allocated even when parsing fails (found by fuzz_sdp)
    return parsed == GST_SDP_OK && raw && gst_sdp_message_get_version(raw) && gst_sdp_message_medias_len(raw) > 0;
}

} // namespace

Negotiation negotiate(const std::string &offer_text, const std::vector<std::string> &codecs, const LocalMedia &local)
{
    if (offer_text.empty())
        return refuse(488, "INVITE without SDP offer is not supported");
    SdpPtr offer;
    if (!parse_sdp(offer_text, offer))
        return refuse(400, "unparsable SDP, or without v= or m= lines");
    GstSDPMessage *raw = offer.get();

    Negotiation result;
    int index[2] = {-1, -1}; // chosen m= line for audio, video
    int crypto_tag[2] = {0, 0};
    std::string srtp_refusal; // why an m= line was refused for its transport
    for (guint i = 0; i < gst_sdp_message_medias_len(raw); ++i) {
        const GstSDPMedia *m = gst_sdp_message_get_media(raw, i);
        const char *media = gst_sdp_media_get_media(m);
        const char *proto = gst_sdp_media_get_proto(m);
        const bool secure = secure_proto(proto);
        if (!media || !(usable_proto(proto) || secure) || gst_sdp_media_get_port(m) == 0)
            continue;
        const bool audio = !std::strcmp(media, "audio");
        if (!audio && (std::strcmp(media, "video") || local.video_rtp_port == 0))
            continue;
        if (index[audio ? 0 : 1] >= 0)
            continue;
        // The srtp property decides which transport we take.
        if (secure && local.srtp == SrtpMode::Off) {
            srtp_refusal = "RTP/SAVP (SRTP) offered, and SRTP is off here";
            continue;
        }
        if (!secure && local.srtp == SrtpMode::Required) {
            srtp_refusal = "plain RTP/AVP offered, and SRTP (RTP/SAVP with SDES a=crypto) is required here";
            continue;
        }
        const std::optional<SrtpCrypto> crypto = secure ? pick_crypto(m) : std::nullopt;
        const std::string &our_key = audio ? local.audio_key : local.video_key;
        if (secure && (!crypto || our_key.size() != kSrtpKeyLength)) {
            srtp_refusal = "RTP/SAVP without an a=crypto we take (AES_CM_128_HMAC_SHA1_80 or _32, inline key, "
                           "no MKI or session parameters)";
            continue;
        }
        Stream &s = audio ? result.audio : result.video;
        const auto formats = formats_of(m);
        // Our order of preference (the `codecs` property), RFC 3264 section 6.1.
        for (size_t c = 0; c < codecs.size() && !s.active; ++c) {
            const CodecInfo *info = codec_info(codecs[c]);
            if (!info || std::strcmp(info->media, media) || !codec_supported(info->name))
                continue;
            for (auto &f : formats)
                if (accept_format(f, *info, s.codec)) {
                    s.active = true;
                    s.nack_pli = !audio && has_feedback(f, "nack pli");
                    s.ccm_fir = !audio && has_feedback(f, "ccm fir");
                    break;
                }
        }
        if (!s.active)
            continue;
        if (!fill_transport(raw, m, s))
            return refuse(400, "SDP without a connection address (c=)");
        if (audio)
            pick_dtmf(formats, s);
        if (crypto) {
            s.srtp = SrtpSession{true, crypto->suite, our_key, crypto->key};
            crypto_tag[audio ? 0 : 1] = crypto->tag;
        }
        index[audio ? 0 : 1] = static_cast<int>(i);
    }
    if (index[0] < 0 && index[1] < 0 && !srtp_refusal.empty())
        return refuse(488, srtp_refusal);
    if (index[0] < 0 && index[1] < 0)
        return refuse(488, "no audio or video stream with a common codec (we take " + join(codecs) +
                               " over RTP/AVP)");
    mirror_audio(result);

    SdpPtr answer(new_session(local));
    for (guint i = 0; i < gst_sdp_message_medias_len(raw); ++i) {
        const GstSDPMedia *om = gst_sdp_message_get_media(raw, i);
        GstSDPMedia am{}; // zeroed: init() frees what it finds
        gst_sdp_media_init(&am);
        gst_sdp_media_set_media(&am, gst_sdp_media_get_media(om) ? gst_sdp_media_get_media(om) : "unknown");
        gst_sdp_media_set_proto(&am, gst_sdp_media_get_proto(om) ? gst_sdp_media_get_proto(om) : "RTP/AVP");
        const int kind = static_cast<int>(i) == index[0] ? 0 : static_cast<int>(i) == index[1] ? 1 : -1;
        if (kind >= 0) {
            const Stream &s = kind == 0 ? result.audio : result.video;
            gst_sdp_media_set_port_info(&am, static_cast<guint>(kind == 0 ? local.rtp_port : local.video_rtp_port), 1);
            add_rtcp_port(&am, kind == 0 ? local.rtp_port : local.video_rtp_port,
                          kind == 0 ? local.rtcp_port : local.video_rtcp_port, local.address);
            add_codec(&am, s.codec, s.nack_pli, s.ccm_fir);
            if (s.dtmf_pt >= 0)
                add_dtmf(&am, s.dtmf_pt, s.dtmf_rate);
            if (kind == 0)
                gst_sdp_media_add_attribute(&am, "ptime", std::to_string(s.codec.ptime_ms).c_str());
            if (s.srtp.on) // RFC 4568 section 5.1.2: the offered tag and suite, our key
                gst_sdp_media_add_attribute(
                    &am, "crypto", crypto_attribute({crypto_tag[kind], s.srtp.suite, s.srtp.local_key}).c_str());
            gst_sdp_media_add_attribute(&am, answer_direction(direction_of(raw, om)), nullptr);
        } else {
            // Refused stream: port 0 with the offered formats (a format is mandatory).
            gst_sdp_media_set_port_info(&am, 0, 1);
            for (guint f = 0; f < gst_sdp_media_formats_len(om); ++f)
                gst_sdp_media_add_format(&am, gst_sdp_media_get_format(om, f));
            if (gst_sdp_media_formats_len(om) == 0)
                gst_sdp_media_add_format(&am, "0");
        }
        gst_sdp_message_add_media(answer.get(), &am); // takes the contents of `am`
    }
    result.answer = as_text(answer.get());
    result.ok = true;
    result.status = 200;
    return result;
}

std::string create_offer(const std::vector<std::string> &codecs, const LocalMedia &local)
{
    SdpPtr offer(new_session(local));
    for (const char *media : {"audio", "video"}) {
        const bool audio = !std::strcmp(media, "audio");
        if (!audio && local.video_rtp_port == 0)
            continue;
        GstSDPMedia m{};
        gst_sdp_media_init(&m);
        gst_sdp_media_set_media(&m, media);
        gst_sdp_media_set_proto(&m, "RTP/AVP");
        gst_sdp_media_set_port_info(&m, static_cast<guint>(audio ? local.rtp_port : local.video_rtp_port), 1);
        add_rtcp_port(&m, audio ? local.rtp_port : local.video_rtp_port, audio ? local.rtcp_port : local.video_rtcp_port,
                      local.address);
        for (auto &name : codecs) {
            const CodecInfo *info = codec_info(name);
            if (!info || std::strcmp(info->media, media) || !codec_supported(info->name))
                continue;
            Codec c;
            c.name = info->name;
            c.payload_type = info->offer_pt;
            c.clock_rate = info->clock_rate;
            c.channels = info->channels;
            if (!std::strcmp(info->name, "opus"))
                c.fmtp = "useinbandfec=1";
            else if (!std::strcmp(info->name, "H264"))
                c.fmtp = "profile-level-id=42e01f;packetization-mode=1";
            add_codec(&m, c, !audio, !audio);
        }
        if (gst_sdp_media_formats_len(&m) == 0) {
            gst_sdp_media_uninit(&m);
            continue;
        }
        if (audio) {
            add_dtmf(&m, 101, 8000);
            gst_sdp_media_add_attribute(&m, "ptime", "20");
        }
        gst_sdp_media_add_attribute(&m, "sendrecv", nullptr);
        gst_sdp_message_add_media(offer.get(), &m);
    }
    return gst_sdp_message_medias_len(offer.get()) ? as_text(offer.get()) : "";
}

Negotiation apply_answer(const std::string &answer_text, const std::string &our_offer)
{
    SdpPtr answer, offer;
    if (answer_text.empty())
        return refuse(400, "no SDP answer");
    if (!parse_sdp(answer_text, answer))
        return refuse(400, "unparsable SDP answer, or without v= or m= lines");
    if (!parse_sdp(our_offer, offer))
        return refuse(500, "our own offer is unusable");
    Negotiation result;
    const guint n = std::min(gst_sdp_message_medias_len(answer.get()), gst_sdp_message_medias_len(offer.get()));
    for (guint i = 0; i < n; ++i) {
        const GstSDPMedia *am = gst_sdp_message_get_media(answer.get(), i);
        const GstSDPMedia *om = gst_sdp_message_get_media(offer.get(), i);
        const char *media = gst_sdp_media_get_media(am);
        if (!media || g_strcmp0(media, gst_sdp_media_get_media(om)) || gst_sdp_media_get_port(am) == 0 ||
            !usable_proto(gst_sdp_media_get_proto(am)))
            continue;
        const bool audio = !std::strcmp(media, "audio");
        if (!audio && std::strcmp(media, "video"))
            continue;
        Stream &s = audio ? result.audio : result.video;
        if (s.active)
            continue;
        const auto offered = formats_of(om);
        const auto formats = formats_of(am);
        // The answer's order; only codecs we offered.
        for (auto &f : formats) {
            const CodecInfo *info = codec_info(f.name);
            if (!info || std::strcmp(info->media, media))
                continue;
            bool was_offered = false;
            for (auto &o : offered)
                was_offered |= !g_ascii_strcasecmp(o.name.c_str(), f.name.c_str());
            if (was_offered && accept_format(f, *info, s.codec)) {
                // The answerer's own parameters describe what it sends.
                if (!f.fmtp.empty() && std::strcmp(info->name, "opus"))
                    s.codec.fmtp = f.fmtp;
                s.active = true;
                s.nack_pli = !audio && has_feedback(f, "nack pli");
                s.ccm_fir = !audio && has_feedback(f, "ccm fir");
                break;
            }
        }
        if (!s.active)
            continue;
        if (!fill_transport(answer.get(), am, s))
            return refuse(400, "SDP answer without a connection address (c=)");
        if (audio)
            pick_dtmf(formats, s);
    }
    if (!result.audio.active && !result.video.active)
        return refuse(488, "the answer accepts none of the codecs we offered");
    mirror_audio(result);
    result.ok = true;
    result.status = 200;
    return result;
}

} // namespace sipsofia
