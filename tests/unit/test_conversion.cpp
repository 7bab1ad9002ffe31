// plan_conversion: what goes between two ports, with the real GStreamer
// registry (elements from -base, -good and -bad are installed).
#include "unit.hpp"

#include "conversion.hpp"

namespace {

struct Caps {
    GstCaps *caps;
    explicit Caps(const char *text) : caps(gst_caps_from_string(text)) { REQUIRE(caps); }
    ~Caps() { gst_caps_unref(caps); }
};

mediagw::ConversionPlan plan(const char *input, const char *accepted)
{
    Caps in(input), out(accepted);
    return mediagw::plan_conversion(in.caps, out.caps);
}

// "a ! b ! c", readable in failure messages.
std::string chain(const mediagw::ConversionPlan &p, size_t n = SIZE_MAX)
{
    std::string out;
    for (size_t i = 0; i < p.elements.size() && i < n; ++i)
        out += (out.empty() ? "" : " ! ") + p.elements[i];
    return out;
}

} // namespace

TEST_CASE("same raw caps: passthrough")
{
    auto p = plan("audio/x-raw, format=S16LE, rate=48000, channels=1", "audio/x-raw");
    CHECK(p.ok);
    CHECK(p.passthrough());
    CHECK(p.elements.empty());
    CHECK(p.why == "passthrough of audio/x-raw");
}

TEST_CASE("same codec: passthrough of encoded media")
{
    auto p = plan("audio/x-opus, channel-mapping-family=0, rate=48000, channels=2", "audio/x-opus");
    CHECK(p.passthrough());
}

TEST_CASE("raw audio of another rate: converters only")
{
    auto p = plan("audio/x-raw, format=S16LE, rate=48000, channels=1, layout=interleaved",
                  "audio/x-raw, format=S16LE, rate=8000, channels=1");
    CHECK(p.ok);
    CHECK_FALSE(p.passthrough());
    CHECK(chain(p) == "audioconvert ! audioresample");
    CHECK(p.why == "audio/x-raw -> audio/x-raw needs audioconvert ! audioresample");
}

TEST_CASE("mu-law to raw: decoder, then converters")
{
    auto p = plan("audio/x-mulaw, rate=8000, channels=1", "audio/x-raw, format=S16LE, rate=48000");
    CHECK(p.ok);
    CHECK(chain(p) == "mulawdec ! audioconvert ! audioresample");
}

TEST_CASE("raw to opus: converters and encoder")
{
    auto p = plan("audio/x-raw, format=S16LE, rate=8000, channels=1, layout=interleaved", "audio/x-opus");
    CHECK(p.ok);
    // No parser: opusenc's output is already framed, and opusparse has rank
    // none (parsers are only chosen among ranked elements).
    CHECK(chain(p) == "audioconvert ! audioresample ! opusenc");
    CHECK(p.why == "audio/x-raw -> audio/x-opus needs audioconvert ! audioresample ! opusenc");
}

TEST_CASE("raw to H.264 byte-stream: converters, encoder, then h264parse")
{
    auto p = plan("video/x-raw, format=I420, width=320, height=240, framerate=30/1",
                  "video/x-h264, stream-format=byte-stream, alignment=au");
    if (!gst_registry_check_feature_version(gst_registry_get(), "x264enc", 1, 0, 0) &&
        !gst_registry_check_feature_version(gst_registry_get(), "openh264enc", 1, 0, 0)) {
        MESSAGE("no H.264 encoder installed: only the failure is checked");
        CHECK_FALSE(p.ok);
        return;
    }
    CHECK(p.ok);
    REQUIRE(p.elements.size() == 4);
    CHECK(chain(p, 2) == "videoconvert ! videoscale");
    CHECK(p.elements[3] == "h264parse");
}

TEST_CASE("mu-law to opus: decode, convert, encode")
{
    auto p = plan("audio/x-mulaw, rate=8000, channels=1", "audio/x-opus");
    CHECK(p.ok);
    REQUIRE(p.elements.size() >= 4);
    CHECK(p.elements[0] == "mulawdec");
    CHECK(p.elements[3] == "opusenc");
}

TEST_CASE("raw video to VP8: videoconvert, videoscale, vp8enc")
{
    auto p = plan("video/x-raw, format=I420, width=320, height=240, framerate=30/1", "video/x-vp8");
    CHECK(p.ok);
    REQUIRE(p.elements.size() >= 3);
    CHECK(chain(p, 3) == "videoconvert ! videoscale ! vp8enc");
    CHECK(p.elements.size() == 3); // no parser reframes VP8
}

TEST_CASE("H.264 in another framing: a parser only")
{
    auto p = plan("video/x-h264, stream-format=avc, alignment=au",
                  "video/x-h264, stream-format=byte-stream, alignment=au");
    CHECK(p.ok);
    CHECK(chain(p) == "h264parse");
}

TEST_CASE("impossible: no decoder")
{
    auto p = plan("audio/x-no-such-codec", "audio/x-raw");
    CHECK_FALSE(p.ok);
    CHECK_FALSE(p.passthrough());
    CHECK(p.why == "no decoder for audio/x-no-such-codec");
}

TEST_CASE("impossible: no encoder")
{
    auto p = plan("audio/x-raw, format=S16LE, rate=8000, channels=1", "audio/x-no-such-codec");
    CHECK_FALSE(p.ok);
    CHECK(p.why == "no encoder for audio/x-no-such-codec");
}

TEST_CASE("every planned element can be created with real-time settings")
{
    for (const char *f : {"audioconvert", "audioresample", "mulawdec", "opusenc", "opusparse", "videoconvert",
                          "videoscale", "vp8enc", "h264parse"}) {
        CAPTURE(f);
        GstElement *e = mediagw::make_conversion_element(f);
        REQUIRE(e);
        gst_object_unref(gst_object_ref_sink(e));
    }
    GstElement *vp8 = mediagw::make_conversion_element("vp8enc");
    gint deadline = 0;
    g_object_get(vp8, "deadline", &deadline, nullptr);
    CHECK(deadline == 1);
    gst_object_unref(gst_object_ref_sink(vp8));
    CHECK(mediagw::make_conversion_element("no-such-element") == nullptr);
}

TEST_CASE("RTP where it is not taken: jitter buffer, depayloader, then as its codec")
{
    const char *opus_rtp = "application/x-rtp, media=audio, encoding-name=OPUS, clock-rate=48000, payload=111";
    // The SIP leg went from Opus to G.711 while a browser's Opus was forwarded.
    auto p = plan(opus_rtp, "audio/x-mulaw; application/x-rtp, media=audio, encoding-name=PCMU, clock-rate=8000");
    CHECK(p.ok);
    CHECK(chain(p, 3) == "rtpjitterbuffer ! rtpopusdepay ! opusdec");
    CHECK(p.elements.back() == "mulawenc");
    CHECK(p.why.find("application/x-rtp -> audio/x-mulaw needs rtpjitterbuffer ! rtpopusdepay") == 0);
    // Same codec, encoded only (rtp_forward off): depayloaded, nothing more.
    auto q = plan(opus_rtp, "audio/x-opus");
    CHECK(q.ok);
    CHECK(chain(q) == "rtpjitterbuffer ! rtpopusdepay");
    // Taken as RTP: passthrough.
    CHECK(plan(opus_rtp, "application/x-rtp, encoding-name=OPUS").passthrough());
    auto r = plan("application/x-rtp, media=audio, encoding-name=X-NO-SUCH, clock-rate=8000", "audio/x-raw");
    CHECK_FALSE(r.ok);
    CHECK_MESSAGE(r.why.find("no depayloader for") == 0, r.why);
}
