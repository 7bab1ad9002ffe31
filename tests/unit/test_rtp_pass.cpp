// rtp_pass (plugins/common/rtp/rtp_pass.cpp): what rtpbin gets instead of a
// jitter buffer for forwarded streams. Packets pass untouched and in
// arrival order; its stats count what is missing as rtpjitterbuffer's would
// (webrtcbin's inbound packetsLost comes from them).
#include "rtp/rtp_pass.hpp"

#include <gst/rtp/rtp.h>

#include <doctest/doctest.h>

#include <vector>

namespace {

std::vector<guint16> passed; // what reached the pad after rtp_pass

GstFlowReturn collect(GstPad *, GstObject *, GstBuffer *buffer)
{
    GstRTPBuffer rtp = GST_RTP_BUFFER_INIT;
    if (gst_rtp_buffer_map(buffer, GST_MAP_READ, &rtp)) {
        passed.push_back(gst_rtp_buffer_get_seq(&rtp));
        gst_rtp_buffer_unmap(&rtp);
    }
    gst_buffer_unref(buffer);
    return GST_FLOW_OK;
}

GstBuffer *packet(guint16 seq)
{
    GstBuffer *b = gst_rtp_buffer_new_allocate(10, 0, 0);
    GstRTPBuffer rtp = GST_RTP_BUFFER_INIT;
    gst_rtp_buffer_map(b, GST_MAP_WRITE, &rtp);
    gst_rtp_buffer_set_payload_type(&rtp, 111);
    gst_rtp_buffer_set_seq(&rtp, seq);
    gst_rtp_buffer_unmap(&rtp);
    return b;
}

guint64 stat(GstElement *pass, const char *field)
{
    GstStructure *s = nullptr;
    g_object_get(pass, "stats", &s, nullptr);
    REQUIRE(s);
    guint64 v = 0;
    CHECK(gst_structure_get_uint64(s, field, &v));
    gst_structure_free(s);
    return v;
}

} // namespace

TEST_CASE("rtp_pass: packets pass in arrival order, losses counted by sequence number")
{
    GstElement *pass = GST_ELEMENT(gst_object_ref_sink(mgwrtp::make_rtp_pass()));
    CHECK(mgwrtp::rtp_pass_type() == G_OBJECT_TYPE(pass)); // registered once
    // What rtpbin and webrtcbin set on a jitter buffer is there.
    g_object_set(pass, "latency", 40u, "do-retransmission", TRUE, nullptr);
    GstPad *out = gst_pad_new("out", GST_PAD_SRC), *in = gst_pad_new("in", GST_PAD_SINK);
    gst_pad_set_chain_function(in, collect);
    GstPad *sink = gst_element_get_static_pad(pass, "sink"), *src = gst_element_get_static_pad(pass, "src");
    REQUIRE(gst_pad_link(out, sink) == GST_PAD_LINK_OK);
    REQUIRE(gst_pad_link(src, in) == GST_PAD_LINK_OK);
    gst_pad_set_active(out, TRUE);
    gst_pad_set_active(in, TRUE);
    REQUIRE(gst_element_set_state(pass, GST_STATE_PLAYING) == GST_STATE_CHANGE_SUCCESS);
    gst_pad_push_event(out, gst_event_new_stream_start("test"));
    GstCaps *caps = gst_caps_from_string("application/x-rtp, media=audio, encoding-name=OPUS, clock-rate=48000");
    gst_pad_push_event(out, gst_event_new_caps(caps));
    gst_caps_unref(caps);
    GstSegment segment;
    gst_segment_init(&segment, GST_FORMAT_TIME);
    gst_pad_push_event(out, gst_event_new_segment(&segment));

    passed.clear();
    // 65535 -> 0: across the wrap; 2 and 4 missing, then 2 late.
    for (guint16 seq : {65534, 65535, 0, 1, 3, 5})
        REQUIRE(gst_pad_push(out, packet(seq)) == GST_FLOW_OK);
    CHECK(stat(pass, "num-pushed") == 6);
    CHECK(stat(pass, "num-lost") == 2);
    REQUIRE(gst_pad_push(out, packet(2)) == GST_FLOW_OK);
    CHECK(passed == std::vector<guint16>{65534, 65535, 0, 1, 3, 5, 2}); // as they came, none dropped
    CHECK(stat(pass, "num-lost") == 1);
    CHECK(stat(pass, "num-late") == 0);

    gst_element_set_state(pass, GST_STATE_NULL);
    gst_pad_set_active(out, FALSE);
    gst_pad_set_active(in, FALSE);
    for (GstPad *p : {sink, src, out, in})
        gst_object_unref(p);
    gst_object_unref(pass);
}
