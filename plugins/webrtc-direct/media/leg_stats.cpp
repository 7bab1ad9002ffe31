#include "media/leg_stats.hpp"

#include <gst/webrtc/webrtc.h>

#include <algorithm>
#include <string>

namespace webrtcdirect {
namespace {

// A numeric field whatever integer or double type this GStreamer gives it
// (packets-lost was a gint before 1.22 and a gint64 since).
bool number(const GstStructure *s, const char *field, double &out)
{
    const GValue *v = gst_structure_get_value(s, field);
    if (!v)
        return false;
    GValue d = G_VALUE_INIT;
    g_value_init(&d, G_TYPE_DOUBLE);
    const bool ok = g_value_type_transformable(G_VALUE_TYPE(v), G_TYPE_DOUBLE) && g_value_transform(v, &d);
    if (ok)
        out = g_value_get_double(&d);
    g_value_unset(&d);
    return ok;
}

// Video or not, from the stream's clock rate (90 kHz is video in WebRTC;
// Opus and G.711 are not): the rtpsource's own, else its codec's. The
// report's "kind" comes last: webrtcbin 1.22 names a bundled audio stream
// "video" there.
bool is_video(const GstStructure *reply, const GstStructure *report)
{
    double clock_rate = 0;
    const GValue *source = gst_structure_get_value(report, "gst-rtpsource-stats");
    if (source && GST_VALUE_HOLDS_STRUCTURE(source) &&
        number(gst_value_get_structure(source), "clock-rate", clock_rate) && clock_rate > 0)
        return clock_rate == 90000;
    const char *codec_id = gst_structure_get_string(report, "codec-id");
    const GValue *codec = codec_id ? gst_structure_get_value(reply, codec_id) : nullptr;
    if (codec && GST_VALUE_HOLDS_STRUCTURE(codec) &&
        number(gst_value_get_structure(codec), "clock-rate", clock_rate) && clock_rate > 0)
        return clock_rate == 90000;
    const char *kind = gst_structure_get_string(report, "kind");
    return kind && g_str_equal(kind, "video");
}

struct Collect {
    const GstStructure *reply;
    LegStats *out;
};

gboolean collect_report(GQuark, const GValue *value, gpointer data)
{
    auto *c = static_cast<Collect *>(data);
    if (!GST_VALUE_HOLDS_STRUCTURE(value))
        return TRUE;
    const GstStructure *report = gst_value_get_structure(value);
    GstWebRTCStatsType type;
    if (!gst_structure_get_enum(report, "type", GST_TYPE_WEBRTC_STATS_TYPE, reinterpret_cast<gint *>(&type)))
        return TRUE;
    if (type != GST_WEBRTC_STATS_INBOUND_RTP && type != GST_WEBRTC_STATS_OUTBOUND_RTP)
        return TRUE;
    RtpFigures &f = is_video(c->reply, report) ? c->out->video : c->out->audio;
    double n = 0;
    if (type == GST_WEBRTC_STATS_OUTBOUND_RTP) {
        if (number(report, "packets-sent", n))
            f.packets_sent += static_cast<std::uint64_t>(n);
    } else {
        if (number(report, "packets-received", n))
            f.packets_received += static_cast<std::uint64_t>(n);
        if (number(report, "packets-lost", n))
            f.packets_lost += static_cast<std::int64_t>(n);
        if (number(report, "jitter", n)) // seconds
            f.jitter_ms = std::max(f.jitter_ms, 1000.0 * n);
    }
    c->out->any = true;
    return TRUE;
}

void set_figures(GstStructure *out, const char *prefix, const RtpFigures &f)
{
    const std::string p = prefix;
    gst_structure_set(out, (p + "packets_sent").c_str(), G_TYPE_UINT64, (guint64)f.packets_sent,
                      (p + "packets_received").c_str(), G_TYPE_UINT64, (guint64)f.packets_received,
                      (p + "packets_lost").c_str(), G_TYPE_INT64, (gint64)f.packets_lost, (p + "jitter_ms").c_str(),
                      G_TYPE_DOUBLE, f.jitter_ms, nullptr);
}

} // namespace

void RtpFigures::add(const RtpFigures &o)
{
    packets_sent += o.packets_sent;
    packets_received += o.packets_received;
    packets_lost += o.packets_lost;
    jitter_ms = std::max(jitter_ms, o.jitter_ms);
}

void LegStats::add(const LegStats &o)
{
    audio.add(o.audio);
    video.add(o.video);
    any = any || o.any;
}

LegStats leg_stats_from_webrtc(const GstStructure *reply)
{
    LegStats out;
    if (!reply)
        return out;
    Collect c{reply, &out};
    gst_structure_foreach(reply, collect_report, &c);
    return out;
}

GstStructure *rtp_stats_event(const LegStats &stats)
{
    GstStructure *out = gst_structure_new_empty("rtp.stats");
    set_figures(out, "audio_", stats.audio);
    if (stats.video.packets_sent || stats.video.packets_received)
        set_figures(out, "video_", stats.video);
    return out;
}

} // namespace webrtcdirect
