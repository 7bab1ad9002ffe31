// The SIP leg's SDP offer/answer with peers' SDP as it comes off the wire
// (plugins/sip-sofia/sdp/sdp_negotiation.cpp, sdp_checks.cpp, srtp.cpp): what
// is answered, what is refused with which status, and hostile values
// (ports, payload types, rtcp, ptime, directions, a=crypto) that must be
// read bounded or refused.
#include "../../plugins/sip-sofia/sdp/sdp_checks.hpp"
#include "../../plugins/sip-sofia/sdp/sdp_negotiation.hpp"
#include "../../plugins/sip-sofia/sdp/srtp.hpp"

#include <doctest/doctest.h>

#include <string>

using namespace sipsofia;

namespace {

const std::vector<std::string> codecs{"opus", "G722", "PCMU", "PCMA", "VP8", "H264"};
const std::string key80 = "WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz"; // 30 bytes, RFC 4568's example

LocalMedia local()
{
    LocalMedia l;
    l.address = "192.0.2.1";
    l.rtp_port = 4000;
    l.video_rtp_port = 4002;
    l.audio_key = l.video_key = std::string(30, 'k');
    return l;
}

std::string sdp(const std::string &media, const std::string &conn = "c=IN IP4 198.51.100.9\r\n")
{
    return "v=0\r\no=- 1 1 IN IP4 198.51.100.9\r\ns=-\r\n" + conn + "t=0 0\r\n" + media;
}

} // namespace

TEST_CASE("a plain G.711 offer: the best common codec, telephone-event, the peer's address")
{
    auto n = negotiate(sdp("m=audio 5004 RTP/AVP 8 0 101\r\na=rtpmap:101 telephone-event/8000\r\n"), codecs, local());
    REQUIRE(n.ok);
    CHECK(n.audio.codec.name == "PCMU"); // our order of preference, not the offer's
    CHECK(n.audio.dtmf_pt == 101);
    CHECK(n.audio.remote_address == "198.51.100.9");
    CHECK(n.audio.remote_rtp_port == 5004);
    CHECK(n.audio.remote_rtcp_port == 5005);
    CHECK(n.audio.remote_sends);
    CHECK(n.audio.remote_receives);
    CHECK(!n.video.active);
    CHECK(n.answer.find("m=audio 4000 RTP/AVP 0 101") != std::string::npos);
}

TEST_CASE("directions: who may send")
{
    auto dir = [](const char *a) {
        return negotiate(sdp(std::string("m=audio 5004 RTP/AVP 0\r\na=") + a + "\r\n"), codecs, local());
    };
    CHECK(!dir("sendonly").audio.remote_receives);
    CHECK(dir("sendonly").audio.remote_sends);
    CHECK(dir("sendonly").answer.find("a=recvonly") != std::string::npos);
    CHECK(!dir("inactive").audio.remote_receives);
    CHECK(!dir("inactive").audio.remote_sends);
    CHECK(dir("recvonly").audio.remote_receives);
    CHECK(!dir("recvonly").audio.remote_sends);
    auto held = negotiate(sdp("m=audio 5004 RTP/AVP 0\r\n", "c=IN IP4 0.0.0.0\r\n"), codecs, local());
    REQUIRE(held.ok);
    CHECK(!held.audio.remote_receives);
    CHECK(!held.audio.remote_sends);
}

TEST_CASE("refusals carry the status the caller gets")
{
    CHECK(negotiate("", codecs, local()).status == 488);
    CHECK(negotiate("garbage", codecs, local()).status == 400);
    CHECK(negotiate(sdp("m=audio 5004 RTP/AVP 18\r\na=rtpmap:18 G729/8000\r\n"), codecs, local()).status == 488);
    CHECK(negotiate("v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\ns=-\r\nt=0 0\r\nm=audio 5004 RTP/AVP 0\r\n", codecs, local())
              .status == 400); // no c= anywhere
    auto t38 = negotiate(sdp("m=image 5004 udptl t38\r\n"), codecs, local());
    CHECK(!t38.ok);
}

TEST_CASE("hostile numbers are read bounded")
{
    // An a=rtcp port out of range falls back to RTP + 1; a ptime out of range is ignored.
    auto n = negotiate(sdp("m=audio 5004 RTP/AVP 0\r\na=rtcp:99999999999999999999\r\na=ptime:100000\r\n"), codecs,
                       local());
    REQUIRE(n.ok);
    CHECK(n.audio.remote_rtcp_port == 5005);
    CHECK(n.audio.codec.ptime_ms == 20);
    n = negotiate(sdp("m=audio 5004 RTP/AVP 0\r\na=rtcp:-1\r\na=ptime:7\r\n"), codecs, local());
    CHECK(n.audio.remote_rtcp_port == 5005);
    CHECK(n.audio.codec.ptime_ms == 20);
    n = negotiate(sdp("m=audio 5004 RTP/AVP 0\r\na=rtcp:6000\r\na=ptime:30\r\n"), codecs, local());
    CHECK(n.audio.remote_rtcp_port == 6000);
    CHECK(n.audio.codec.ptime_ms == 30);
    // Dynamic payload types beyond 127, negative ones, names without rates.
    n = negotiate(sdp("m=audio 5004 RTP/AVP 300 -5 96\r\na=rtpmap:300 opus/48000/2\r\na=rtpmap:-5 opus/48000/2\r\n"
                      "a=rtpmap:96 opus\r\n"),
                  codecs, local());
    CHECK(!n.ok);
    std::string why;
    CHECK(sdp_check(sdp("m=audio 99999 RTP/AVP 0\r\n"), why) == 400);
    CHECK(negotiate(sdp("m=audio notaport RTP/AVP 0\r\n"), codecs, local()).status >= 400);
    CHECK(sdp_check(sdp(""), why) == 400);
}

TEST_CASE("SDES: the suites we take, and nothing else")
{
    auto n = negotiate(sdp("m=audio 5004 RTP/SAVP 0\r\na=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:" + key80 + "\r\n"),
                       codecs, local());
    REQUIRE(n.ok);
    CHECK(n.audio.srtp.on);
    CHECK(n.audio.srtp.suite == "AES_CM_128_HMAC_SHA1_80");
    CHECK(n.audio.srtp.remote_key.size() == kSrtpKeyLength);
    CHECK(n.answer.find("RTP/SAVP") != std::string::npos);
    CHECK(n.answer.find(key80) == std::string::npos); // our own key answers, not an echo of theirs

    auto off = local();
    off.srtp = SrtpMode::Off;
    CHECK(negotiate(sdp("m=audio 5004 RTP/SAVP 0\r\na=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:" + key80 + "\r\n"),
                    codecs, off)
              .status == 488);
    auto required = local();
    required.srtp = SrtpMode::Required;
    CHECK(negotiate(sdp("m=audio 5004 RTP/AVP 0\r\n"), codecs, required).status == 488);
    CHECK(negotiate(sdp("m=audio 5004 RTP/SAVP 0\r\n"), codecs, local()).status == 488); // SAVP without a=crypto
}

TEST_CASE("a=crypto values")
{
    auto c = parse_crypto(("1 AES_CM_128_HMAC_SHA1_80 inline:" + key80).c_str());
    REQUIRE(c);
    CHECK(c->tag == 1);
    CHECK(c->key.size() == kSrtpKeyLength);
    CHECK(parse_crypto(("2 AES_CM_128_HMAC_SHA1_32 inline:" + key80 + "|2^20").c_str()));
    CHECK(parse_crypto(crypto_attribute(*c).c_str()) == c);
    for (const std::string &bad : std::vector<std::string>{"", "1", "1 AES_CM_128_HMAC_SHA1_80", "1 AES_CM_128_HMAC_SHA1_80 inline:", "1 AES_CM_128_HMAC_SHA1_80 inline:short",
          "1 AES_256_CM_HMAC_SHA1_80 inline:" + key80, "x AES_CM_128_HMAC_SHA1_80 inline:" + key80,
          "99999999999999999999 AES_CM_128_HMAC_SHA1_80 inline:" + key80,
          "1 AES_CM_128_HMAC_SHA1_80 inline:" + key80 + "|2^20|1:32", // an MKI
          "1 AES_CM_128_HMAC_SHA1_80 inline:" + key80 + " UNENCRYPTED_SRTP", "1 AES_CM_128_HMAC_SHA1_80 key:" + key80,
          "1 AES_CM_128_HMAC_SHA1_80 inline:!!!!" + key80.substr(4)})
        CHECK_MESSAGE(!parse_crypto(bad.c_str()), bad);
}

TEST_CASE("our offer and the peer's answer")
{
    const std::string offer = create_offer(codecs, local());
    REQUIRE(!offer.empty());
    auto n = apply_answer(sdp("m=audio 6000 RTP/AVP 0\r\nm=video 0 RTP/AVP 96\r\n"), offer);
    REQUIRE(n.ok);
    CHECK(n.audio.codec.name == "PCMU");
    CHECK(!n.video.active);
    CHECK(apply_answer(sdp("m=audio 6000 RTP/AVP 18\r\n"), offer).status == 488); // something we never offered
    CHECK(apply_answer("", offer).status == 400);
    CHECK(apply_answer("nonsense", offer).status == 400);
}
