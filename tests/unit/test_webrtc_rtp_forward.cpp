// RTP forwarding (plugins/common/rtp/rtp_forward.cpp, used by webrtc-direct and sip-sofia):
// the caller's packets get the session's payload type and SSRC, keep their
// sequence and timestamp spacing (also across a change of the caller's
// SSRC or of the path that feeds them), and lose header extensions.
#include "rtp/rtp_forward.hpp"

#include <gst/rtp/rtp.h>

#include <doctest/doctest.h>

#include <cstring>

using namespace mgwrtp;

namespace {

GstBuffer *packet(guint32 ssrc, guint16 seq, guint32 ts, GstClockTime pts, bool extension = false)
{
    GstBuffer *b = gst_rtp_buffer_new_allocate(20, 0, 0);
    GstRTPBuffer rtp = GST_RTP_BUFFER_INIT;
    gst_rtp_buffer_map(b, GST_MAP_WRITE, &rtp);
    gst_rtp_buffer_set_payload_type(&rtp, 96);
    gst_rtp_buffer_set_ssrc(&rtp, ssrc);
    gst_rtp_buffer_set_seq(&rtp, seq);
    gst_rtp_buffer_set_timestamp(&rtp, ts);
    memset(gst_rtp_buffer_get_payload(&rtp), 0xAB, 20);
    gst_rtp_buffer_unmap(&rtp);
    if (extension) {
        GstBuffer *with = gst_rtp_buffer_new_allocate(20, 8, 0);
        gst_rtp_buffer_map(with, GST_MAP_WRITE, &rtp);
        gst_rtp_buffer_set_payload_type(&rtp, 96);
        gst_rtp_buffer_set_ssrc(&rtp, ssrc);
        gst_rtp_buffer_set_seq(&rtp, seq);
        gst_rtp_buffer_set_timestamp(&rtp, ts);
        const guint8 data[4] = {1, 2, 3, 4};
        gst_rtp_buffer_add_extension_onebyte_header(&rtp, 1, data, 4);
        memset(gst_rtp_buffer_get_payload(&rtp), 0xAB, 20);
        gst_rtp_buffer_unmap(&rtp);
        gst_buffer_unref(b);
        b = with;
    }
    GST_BUFFER_PTS(b) = pts;
    return b;
}

struct Header {
    guint8 pt;
    guint32 ssrc;
    guint16 seq;
    guint32 ts;
    bool extension;
    guint payload_len;
};

Header read(GstBuffer *b)
{
    GstRTPBuffer rtp = GST_RTP_BUFFER_INIT;
    REQUIRE(gst_rtp_buffer_map(b, GST_MAP_READ, &rtp));
    Header h{gst_rtp_buffer_get_payload_type(&rtp), gst_rtp_buffer_get_ssrc(&rtp), gst_rtp_buffer_get_seq(&rtp),
             gst_rtp_buffer_get_timestamp(&rtp), (bool)gst_rtp_buffer_get_extension(&rtp),
             gst_rtp_buffer_get_payload_len(&rtp)};
    gst_rtp_buffer_unmap(&rtp);
    return h;
}

Header forward(RtpForward &f, GstBuffer *b)
{
    REQUIRE(f.rewrite(&b));
    Header h = read(b);
    gst_buffer_unref(b);
    return h;
}

} // namespace

TEST_CASE("forwarded RTP: the session's payload type and SSRC, the caller's spacing")
{
    GstCaps *caps = gst_caps_from_string("application/x-rtp, media=audio, encoding-name=OPUS, clock-rate=48000");
    RtpForward f(caps, 111, 0xCAFE, 48000);
    gst_caps_unref(caps);
    const Header a = forward(f, packet(1, 100, 5000, 0));
    CHECK(a.pt == 111);
    CHECK(a.ssrc == 0xCAFE);
    const Header b = forward(f, packet(1, 101, 5960, 20 * GST_MSECOND));
    CHECK((guint16)(b.seq - a.seq) == 1);
    CHECK(b.ts - a.ts == 960);
    // A gap (a lost packet) and a reordered one keep their numbers.
    const Header d = forward(f, packet(1, 103, 7880, 60 * GST_MSECOND));
    CHECK((guint16)(d.seq - a.seq) == 3);
    const Header c = forward(f, packet(1, 102, 6920, 61 * GST_MSECOND));
    CHECK((guint16)(c.seq - a.seq) == 2);
    CHECK(c.ts - a.ts == 1920);

    // The caller's SSRC changes (new sequence and timestamp bases): the
    // browser sees one stream going on, its timestamps by the time passed.
    const Header e = forward(f, packet(2, 9, 777, 80 * GST_MSECOND));
    CHECK(e.ssrc == 0xCAFE);
    CHECK((guint16)(e.seq - d.seq) == 1);
    CHECK(e.ts - d.ts == 960); // 20 ms at 48 kHz after the last in-order packet
    const Header g = forward(f, packet(2, 10, 1737, 100 * GST_MSECOND));
    CHECK((guint16)(g.seq - e.seq) == 1);
    CHECK(g.ts - e.ts == 960);
}

TEST_CASE("forwarded RTP: header extensions are dropped, the payload kept")
{
    GstCaps *caps = gst_caps_from_string("application/x-rtp, media=video, encoding-name=VP8, clock-rate=90000");
    RtpForward f(caps, 96, 7, 90000);
    gst_caps_unref(caps);
    const Header h = forward(f, packet(5, 1, 1, 0, true));
    CHECK_FALSE(h.extension);
    CHECK(h.payload_len == 20);
    CHECK(h.ssrc == 7);
    GstBuffer *junk = gst_buffer_new_allocate(nullptr, 5, nullptr);
    CHECK_FALSE(f.rewrite(&junk)); // not RTP: dropped
    gst_buffer_unref(junk);
}

TEST_CASE("forwarded RTP: a restart (another path feeds it) runs on like an SSRC change")
{
    GstCaps *caps = gst_caps_from_string("application/x-rtp, media=audio, encoding-name=OPUS, clock-rate=48000");
    RtpForward f(caps, 111, 0xCAFE, 48000);
    gst_caps_unref(caps);
    const Header a = forward(f, packet(1, 100, 5000, 0));
    // A payloader takes over with the same SSRC but its own numbers, lower
    // ones: the peer must not see the stream jump back (every packet late).
    f.restart();
    const Header b = forward(f, packet(1, 7, 100, 20 * GST_MSECOND));
    CHECK(b.ssrc == 0xCAFE);
    CHECK((guint16)(b.seq - a.seq) == 1);
    CHECK(b.ts - a.ts == 960);
    const Header c = forward(f, packet(1, 8, 1060, 40 * GST_MSECOND));
    CHECK((guint16)(c.seq - b.seq) == 1);
    CHECK(c.ts - b.ts == 960);
}
