// webrtc-direct's readers of SDP from the network: WHIP/WHEP offers
// (plugins/webrtc-direct/media/offer.cpp, a=rtpmap above all) and trickled SDP
// fragments (whip_whep/trickle_fragment.cpp), hostile values included.
#include "../../plugins/webrtc-direct/media/offer.hpp"
#include "../../plugins/webrtc-direct/whip_whep/trickle_fragment.hpp"

#include <doctest/doctest.h>

using namespace webrtcdirect;

namespace {

std::string offer_with(const std::string &audio_attributes, const std::string &formats = "111")
{
    return "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=group:BUNDLE 0\r\n"
           "m=audio 9 UDP/TLS/RTP/SAVPF " + formats + "\r\nc=IN IP4 0.0.0.0\r\na=mid:0\r\na=setup:actpass\r\n"
           "a=ice-ufrag:abcd\r\na=ice-pwd:abcdefghijklmnopqrstuvwx\r\n"
           "a=fingerprint:sha-256 AB:CD\r\n" + audio_attributes;
}

int opus_payload(const std::string &rtpmap_value)
{
    Offer o;
    std::string error;
    if (!parse_offer(offer_with("a=rtpmap:" + rtpmap_value + "\r\n"), {"VP8"}, o, error))
        return -1;
    return o.media.at(0).payload;
}

} // namespace

TEST_CASE("a=rtpmap: payload type 0-127 and an encoding name, nothing else")
{
    int pt = -1;
    std::string name;
    CHECK(parse_rtpmap("111 opus/48000/2", pt, name));
    CHECK(pt == 111);
    CHECK(name == "opus");
    CHECK(parse_rtpmap("0 PCMU/8000", pt, name));
    CHECK(pt == 0);
    CHECK(parse_rtpmap("127 VP8/90000", pt, name));

    const char *hostile[] = {
        "99999999999999999999999999 opus/48000/2", // sscanf("%d") overflow: undefined behaviour
        "2147483648 opus/48000/2",
        "4294967407 opus/48000/2", // 111 modulo 2^32
        "128 opus/48000/2",
        "-1 opus/48000/2",
        "-2147483537 opus/48000/2",
        " 111 opus/48000/2",
        "111opus/48000/2",
        "111 /48000",
        "111 opus",              // no clock rate
        "0x6f opus/48000/2",
        "1e2 opus/48000/2",
        "",
        "111 ",
        "111 aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa/90000",
    };
    for (const char *value : hostile) {
        CAPTURE(value);
        CHECK_FALSE(parse_rtpmap(value, pt, name));
    }
    CHECK_FALSE(parse_rtpmap(nullptr, pt, name));
}

TEST_CASE("a WHIP offer with hostile a=rtpmap lines offers no usable codec")
{
    CHECK(opus_payload("111 opus/48000/2") == 111);
    CHECK(opus_payload("99999999999999999999 opus/48000/2") == -1);
    CHECK(opus_payload("4294967407 opus/48000/2") == -1);
    CHECK(opus_payload("-1 opus/48000/2") == -1);
    CHECK(opus_payload("200 opus/48000/2") == -1);

    // One bad line among good ones: the good one is taken.
    Offer o;
    std::string error;
    REQUIRE(parse_offer(offer_with("a=rtpmap:99999999999 opus/48000/2\r\na=rtpmap:109 OPUS/48000/2\r\n", "111 109"),
                        {"VP8"}, o, error));
    CHECK(o.media.at(0).payload == 109);
    CHECK(o.media.at(0).codec == "OPUS");
}

TEST_CASE("offers the parser refuses name what is wrong")
{
    Offer o;
    std::string error;
    CHECK_FALSE(parse_offer("hello", {"VP8"}, o, error));
    CHECK(error.find("v=0") != std::string::npos);
    CHECK_FALSE(parse_offer("v=0\r\n", {"VP8"}, o, error));
    CHECK_FALSE(parse_offer(offer_with("a=rtpmap:0 PCMU/8000\r\n", "0"), {"VP8"}, o, error));
    CHECK(error.find("no usable codec") != std::string::npos);
    std::string no_fingerprint = offer_with("a=rtpmap:111 opus/48000/2\r\n");
    no_fingerprint.erase(no_fingerprint.find("a=fingerprint"), std::string("a=fingerprint:sha-256 AB:CD\r\n").size());
    CHECK_FALSE(parse_offer(no_fingerprint, {"VP8"}, o, error));
    CHECK(error.find("fingerprint") != std::string::npos);
    // A megabyte of attributes: parsed or refused, never a crash.
    std::string big = offer_with(std::string(200000, 'x') + "\r\n");
    Offer o2;
    parse_offer(big, {"VP8"}, o2, error);
}

TEST_CASE("H.264 needs packetization-mode 1; constrained baseline first")
{
    Offer o;
    std::string error;
    const std::string sdp = offer_with("a=rtpmap:111 opus/48000/2\r\n") +
                            "m=video 9 UDP/TLS/RTP/SAVPF 102 104 106\r\na=mid:1\r\n"
                            "a=ice-ufrag:abcd\r\na=ice-pwd:abcdefghijklmnopqrstuvwx\r\na=fingerprint:sha-256 AB:CD\r\n"
                            "a=rtpmap:102 H264/90000\r\na=fmtp:102 profile-level-id=42001f;packetization-mode=0\r\n"
                            "a=rtpmap:104 H264/90000\r\na=fmtp:104 profile-level-id=640c1f;packetization-mode=1\r\n"
                            "a=rtpmap:106 H264/90000\r\na=fmtp:106 profile-level-id=42e01f;packetization-mode=1\r\n";
    REQUIRE(parse_offer(sdp, {"H264", "VP8"}, o, error));
    REQUIRE(o.media.size() == 2);
    CHECK(o.media[1].codec == "H264");
    CHECK(o.media[1].payload == 106);
}

TEST_CASE("trickled fragments: candidates per a=mid, end-of-candidates, unknown mids refused")
{
    RemoteCandidates r;
    std::string error;
    REQUIRE(parse_trickle_fragment("a=ice-ufrag:x\r\na=ice-pwd:y\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=mid:a\r\n"
                                   "a=candidate:1 1 UDP 2122260223 10.0.0.1 5000 typ host\r\n"
                                   "m=video 9 UDP/TLS/RTP/SAVPF 96\r\na=mid:v\r\n"
                                   "a=candidate:2 1 UDP 2122260223 10.0.0.1 5002 typ host  \r\n"
                                   "a=end-of-candidates\r\n",
                                   {"a", "v"}, r, error));
    REQUIRE(r.candidates.size() == 2);
    CHECK(r.candidates[0].first == 0);
    CHECK(r.candidates[0].second == "candidate:1 1 UDP 2122260223 10.0.0.1 5000 typ host");
    CHECK(r.candidates[1].first == 1);
    CHECK(r.candidates[1].second == "candidate:2 1 UDP 2122260223 10.0.0.1 5002 typ host");
    CHECK(r.end);

    RemoteCandidates before_mid; // no a=mid: the first m-line (bare LF line ends too)
    REQUIRE(parse_trickle_fragment("a=candidate:1 1 UDP 1 10.0.0.1 9 typ host\n", {"0"}, before_mid, error));
    REQUIRE(before_mid.candidates.size() == 1);
    CHECK(before_mid.candidates[0].first == 0);
    CHECK_FALSE(before_mid.end);

    RemoteCandidates unknown;
    CHECK_FALSE(parse_trickle_fragment("a=mid:" + std::string(5000, 'z') + "\r\na=candidate:1 1 UDP 1 1.2.3.4 9 typ host\r\n",
                                       {"0"}, unknown, error));
    CHECK(error.find("not in the offer") != std::string::npos);
    CHECK(error.size() < 100); // the hostile mid is not echoed whole

    RemoteCandidates garbage;
    REQUIRE(parse_trickle_fragment(std::string("\0\r\n\r\n\xff\xfe", 7) + "a=candidate", {"0"}, garbage, error));
    CHECK(garbage.candidates.empty());
}

TEST_CASE("the client's own fragments carry m-line, mid and ICE credentials")
{
    TrickleFragment f;
    std::string error;
    REQUIRE(f.set_offer(offer_with("a=rtpmap:111 opus/48000/2\r\n"), error));
    const std::string frag = f.build({{0, "candidate:1 1 UDP 1 10.0.0.1 9 typ host"}, {5, "candidate:ignored"}});
    CHECK(frag == "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=mid:0\r\na=ice-ufrag:abcd\r\n"
                  "a=ice-pwd:abcdefghijklmnopqrstuvwx\r\na=candidate:1 1 UDP 1 10.0.0.1 9 typ host\r\n");
    TrickleFragment bad;
    CHECK_FALSE(bad.set_offer("v=0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\n", error));
    CHECK(error.find("ice-ufrag") != std::string::npos);
}
