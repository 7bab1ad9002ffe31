// ICE attributes in the SIP leg's SDP (plugins/sip-sofia/nat/ice_sdp.cpp): what
// a peer's offer says (media or session level credentials, UDP candidates
// only, ice-lite, rtcp-mux) and our attributes added to an answer.
#include "../../plugins/sip-sofia/nat/ice_sdp.hpp"

#include <doctest/doctest.h>

using namespace sipsofia;

namespace {
const char *kOffer = "v=0\r\n"
                     "o=- 1 1 IN IP4 10.0.0.2\r\n"
                     "s=-\r\n"
                     "c=IN IP4 10.0.0.2\r\n"
                     "t=0 0\r\n"
                     "a=ice-ufrag:sess\r\n"
                     "a=ice-pwd:sessionpasswordsessionpw\r\n"
                     "m=audio 4000 RTP/AVP 0\r\n"
                     "a=ice-ufrag:AbCd\r\n"
                     "a=ice-pwd:0123456789abcdefghijkl\r\n"
                     "a=candidate:1 1 UDP 2130706431 10.0.0.2 4000 typ host\r\n"
                     "a=candidate:1 2 UDP 2130706430 10.0.0.2 4001 typ host\r\n"
                     "a=candidate:2 1 TCP 1518280447 10.0.0.2 9 typ host tcptype active\r\n"
                     "a=rtcp-mux\r\n"
                     "m=video 0 RTP/AVP 96\r\n"
                     "m=video 5000 RTP/AVP 96\r\n"
                     "a=candidate:3 1 UDP 1694498815 203.0.113.7 5000 typ srflx raddr 10.0.0.2 rport 5000\r\n";
} // namespace

TEST_CASE("the peer's ICE attributes per m= line")
{
    const RemoteIceMedia r = remote_ice(kOffer);
    CHECK(r.any());
    CHECK(r.audio.present);
    CHECK(r.audio.ufrag == "AbCd"); // media level wins
    CHECK(r.audio.pwd == "0123456789abcdefghijkl");
    CHECK(r.audio.rtcp_mux);
    CHECK_FALSE(r.audio.lite);
    REQUIRE(r.audio.candidates.size() == 2); // the TCP one is dropped
    CHECK(r.audio.candidates[0] == "candidate:1 1 UDP 2130706431 10.0.0.2 4000 typ host");
    // The first video line with a port; credentials from the session level.
    CHECK(r.video.present);
    CHECK(r.video.ufrag == "sess");
    CHECK_FALSE(r.video.rtcp_mux);
    REQUIRE(r.video.candidates.size() == 1);
}

TEST_CASE("an offer without ICE, an ICE-lite one, garbage")
{
    const char *plain = "v=0\r\no=- 1 1 IN IP4 10.0.0.2\r\ns=-\r\nc=IN IP4 10.0.0.2\r\nt=0 0\r\n"
                        "m=audio 4000 RTP/AVP 0\r\n";
    CHECK_FALSE(remote_ice(plain).any());
    const std::string lite = std::string("v=0\r\no=- 1 1 IN IP4 10.0.0.2\r\ns=-\r\nc=IN IP4 10.0.0.2\r\nt=0 0\r\n") +
                             "a=ice-lite\r\nm=audio 4000 RTP/AVP 0\r\na=ice-ufrag:x1\r\n"
                             "a=ice-pwd:0123456789abcdefghijkl\r\n"
                             "a=candidate:1 1 UDP 2130706431 10.0.0.2 4000 typ host\r\n";
    CHECK(remote_ice(lite).audio.present);
    CHECK(remote_ice(lite).audio.lite);
    // Credentials without a candidate are no ICE.
    const std::string no_candidates = std::string(plain) + "a=ice-ufrag:x1\r\na=ice-pwd:0123456789abcdefghijkl\r\n";
    CHECK_FALSE(remote_ice(no_candidates).any());
    CHECK_FALSE(remote_ice("not sdp").any());
    CHECK_FALSE(remote_ice("").any()); // an INVITE without SDP
}

TEST_CASE("our attributes go on the first active line of each kind")
{
    const char *answer = "v=0\r\no=mediagw 1 1 IN IP4 10.0.0.1\r\ns=mediagw\r\nc=IN IP4 10.0.0.1\r\nt=0 0\r\n"
                         "m=audio 6000 RTP/AVP 0\r\na=sendrecv\r\n"
                         "m=video 0 RTP/AVP 96\r\n";
    LocalIce audio{"uF", "pwdpwdpwdpwdpwdpwdpwdp", {"candidate:1 1 UDP 2015363327 10.0.0.1 6000 typ host"}, true};
    LocalIce video{"vF", "pwdpwdpwdpwdpwdpwdpwdp", {"candidate:1 1 UDP 2015363327 10.0.0.1 6002 typ host"}, false};
    const std::string out = add_local_ice(answer, &audio, &video);
    CHECK(out.find("m=audio 6000 RTP/AVP 0\r\na=sendrecv\r\na=ice-ufrag:uF\r\na=ice-pwd:pwdpwdpwdpwdpwdpwdpwdp\r\n"
                   "a=candidate:1 1 UDP 2015363327 10.0.0.1 6000 typ host\r\na=rtcp-mux\r\n") != std::string::npos);
    CHECK(out.find("vF") == std::string::npos); // the refused video line gets nothing
    // Read back as a peer would.
    const RemoteIceMedia back = remote_ice(out);
    CHECK(back.audio.present);
    CHECK(back.audio.ufrag == "uF");
    CHECK(back.audio.rtcp_mux);
    CHECK(add_local_ice("garbage", &audio, nullptr).empty());
}
