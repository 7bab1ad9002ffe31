// webrtc-direct's RTP statistics (plugins/webrtc-direct/media/leg_stats.cpp):
// webrtcbin's get-stats reply summed per kind into the "rtp.stats" event
// that mediagw serve reads for its metrics and call records.
#include "../../plugins/webrtc-direct/media/leg_stats.hpp"

#include <gst/webrtc/webrtc.h>

#include <doctest/doctest.h>

using namespace webrtcdirect;

namespace {

// One report as webrtcbin (1.22) builds it: a structure under its id.
void add_report(GstStructure *reply, const char *id, GstStructure *report)
{
    gst_structure_set(reply, id, GST_TYPE_STRUCTURE, report, nullptr);
    gst_structure_free(report);
}

GstStructure *rtp_report(GstWebRTCStatsType type, const char *codec_id)
{
    return gst_structure_new("application/x-webrtc-stats", "type", GST_TYPE_WEBRTC_STATS_TYPE, type, "codec-id",
                             G_TYPE_STRING, codec_id, nullptr);
}

} // namespace

TEST_CASE("get-stats: packets sent, received and lost per kind, the worst jitter")
{
    GstStructure *reply = gst_structure_new_empty("application/x-webrtc-stats");
    add_report(reply, "codec-opus", gst_structure_new("application/x-webrtc-stats", "type",
                                                      GST_TYPE_WEBRTC_STATS_TYPE, GST_WEBRTC_STATS_CODEC,
                                                      "clock-rate", G_TYPE_UINT, 48000u, nullptr));
    add_report(reply, "codec-vp8", gst_structure_new("application/x-webrtc-stats", "type",
                                                     GST_TYPE_WEBRTC_STATS_TYPE, GST_WEBRTC_STATS_CODEC,
                                                     "clock-rate", G_TYPE_UINT, 90000u, nullptr));
    // webrtcbin 1.22 calls a bundled audio stream "video": its rtpsource's
    // clock rate decides.
    GstStructure *in_audio = rtp_report(GST_WEBRTC_STATS_INBOUND_RTP, "codec-opus");
    GstStructure *source = gst_structure_new("application/x-rtp-source-stats", "clock-rate", G_TYPE_INT, 48000, nullptr);
    gst_structure_set(in_audio, "kind", G_TYPE_STRING, "video", "gst-rtpsource-stats", GST_TYPE_STRUCTURE, source,
                      nullptr);
    gst_structure_free(source);
    gst_structure_set(in_audio, "packets-received", G_TYPE_UINT64, (guint64)500, "packets-lost", G_TYPE_INT64,
                      (gint64)3, "jitter", G_TYPE_DOUBLE, 0.004, nullptr);
    add_report(reply, "in-audio", in_audio);
    GstStructure *out_audio = rtp_report(GST_WEBRTC_STATS_OUTBOUND_RTP, "codec-opus");
    gst_structure_set(out_audio, "packets-sent", G_TYPE_UINT64, (guint64)498, nullptr);
    add_report(reply, "out-audio", out_audio);
    // A video report that names its kind; packets-lost as the older gint.
    GstStructure *in_video = rtp_report(GST_WEBRTC_STATS_INBOUND_RTP, "codec-vp8");
    gst_structure_set(in_video, "kind", G_TYPE_STRING, "video", "packets-received", G_TYPE_UINT64, (guint64)900,
                      "packets-lost", G_TYPE_INT, 7, "jitter", G_TYPE_DOUBLE, 0.010, nullptr);
    add_report(reply, "in-video", in_video);
    // Transport and candidate reports are not RTP: left out.
    add_report(reply, "transport", gst_structure_new("application/x-webrtc-stats", "type", GST_TYPE_WEBRTC_STATS_TYPE,
                                                     GST_WEBRTC_STATS_TRANSPORT, "packets-sent", G_TYPE_UINT64,
                                                     (guint64)99999, nullptr));

    LegStats st = leg_stats_from_webrtc(reply);
    gst_structure_free(reply);
    CHECK(st.any);
    CHECK(st.audio.packets_received == 500);
    CHECK(st.audio.packets_sent == 498);
    CHECK(st.audio.packets_lost == 3);
    CHECK(st.audio.jitter_ms == doctest::Approx(4.0));
    CHECK(st.video.packets_received == 900);
    CHECK(st.video.packets_lost == 7);
    CHECK(st.video.packets_sent == 0);

    // Two sessions (a WHIP and a WHEP one) add up; jitter is the worst stream's.
    LegStats other;
    other.audio.packets_sent = 2;
    other.audio.jitter_ms = 9;
    st.add(other);
    GstStructure *event = rtp_stats_event(st);
    guint64 sent = 0, received = 0;
    gint64 lost = 0;
    double jitter = 0;
    CHECK(gst_structure_has_name(event, "rtp.stats"));
    CHECK(gst_structure_get_uint64(event, "audio_packets_sent", &sent));
    CHECK(sent == 500);
    CHECK(gst_structure_get_uint64(event, "video_packets_received", &received));
    CHECK(received == 900);
    CHECK(gst_structure_get_int64(event, "video_packets_lost", &lost));
    CHECK(lost == 7);
    CHECK(gst_structure_get_double(event, "audio_jitter_ms", &jitter));
    CHECK(jitter == doctest::Approx(9.0));
    gst_structure_free(event);
}

TEST_CASE("get-stats: no reply or no RTP stream yet is no figure")
{
    CHECK_FALSE(leg_stats_from_webrtc(nullptr).any);
    GstStructure *reply = gst_structure_new_empty("application/x-webrtc-stats");
    CHECK_FALSE(leg_stats_from_webrtc(reply).any);
    gst_structure_free(reply);
}
