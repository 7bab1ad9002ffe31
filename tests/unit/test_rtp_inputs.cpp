// The SIP leg's checks of what arrives with the RTP and SIP INFO: which
// sources may feed a call (rtp_source_policy), RFC 4733 digits and their rate
// bound (dtmf), SIP INFO bodies (sip_info). All of it is outside input.
#include "../../plugins/sip-sofia/media/dtmf.hpp"
#include "../../plugins/sip-sofia/media/rtp_source_policy.hpp"
#include "../../plugins/sip-sofia/signalling/sip_info.hpp"

#include <doctest/doctest.h>

#include <string>

using namespace sipsofia;
using V = SourceFilter::Verdict;

namespace {
const Endpoint sdp{"192.0.2.10", 4000};
const Endpoint nat{"198.51.100.7", 61000}; // the caller behind a NAT
const Endpoint stranger{"203.0.113.66", 5004};
constexpr int64_t s = 1'000'000;
} // namespace

TEST_CASE("learn: the first source latches, then nobody else")
{
    SourceFilter f(SourcePolicy::Learn, sdp, 0);
    CHECK(f.check(nat, 10) == V::Latch);
    CHECK(f.check(nat, 20) == V::Accept);
    CHECK(f.check(stranger, 30) == V::DropFirstTime);
    CHECK(f.check(stranger, 40) == V::Drop);
    CHECK(f.check(Endpoint{nat.address, nat.port + 2}, 50) == V::Drop); // same host, other port
    CHECK(f.check(nat, 60) == V::Accept);
    CHECK(f.dropped() == 3);
    REQUIRE(f.latched());
    CHECK(*f.latched() == nat);
}

TEST_CASE("learn: the SDP address takes the latch back within the window only")
{
    SourceFilter early(SourcePolicy::Learn, sdp, 0);
    CHECK(early.check(stranger, 1) == V::Latch); // a stranger raced the caller to the port
    CHECK(early.check(sdp, 2 * s) == V::Latch);  // the caller's own (SDP) address wins it back
    CHECK(early.check(stranger, 2 * s + 1) == V::DropFirstTime);
    CHECK(*early.latched() == sdp);

    SourceFilter late(SourcePolicy::Learn, sdp, 0);
    CHECK(late.check(nat, 1) == V::Latch);
    CHECK(late.check(sdp, 4 * s) == V::DropFirstTime); // locked after 3 s
    CHECK(*late.latched() == nat);

    SourceFilter final(SourcePolicy::Learn, sdp, 0);
    CHECK(final.check(sdp, 1) == V::Latch);
    CHECK(final.check(nat, 2) == V::DropFirstTime); // the SDP address itself: final at once
}

TEST_CASE("learn: a caller silent past the window still latches with its first packet")
{
    SourceFilter f(SourcePolicy::Learn, sdp, 0);
    CHECK(f.check(nat, 60 * s) == V::Latch);
    CHECK(f.check(stranger, 60 * s + 1) == V::DropFirstTime);
}

TEST_CASE("sdp: only the SDP address, no latching")
{
    SourceFilter f(SourcePolicy::Sdp, sdp, 0);
    CHECK(f.check(nat, 1) == V::DropFirstTime);
    CHECK(f.check(sdp, 2) == V::Accept);
    CHECK(!f.latched());
    SourceFilter none(SourcePolicy::Sdp, Endpoint{}, 0); // a name or nothing in c=: nobody matches
    CHECK(none.check(Endpoint{}, 1) == V::DropFirstTime);
}

TEST_CASE("any: the first source latches, every source is heard")
{
    SourceFilter f(SourcePolicy::Any, sdp, 0);
    CHECK(f.check(nat, 1) == V::Latch);
    CHECK(f.check(stranger, 2) == V::Accept);
    CHECK(*f.latched() == nat);
}

TEST_CASE("source policy names")
{
    CHECK(parse_source_policy("learn") == SourcePolicy::Learn);
    CHECK(parse_source_policy("sdp") == SourcePolicy::Sdp);
    CHECK(parse_source_policy("any") == SourcePolicy::Any);
    CHECK(!parse_source_policy("strict"));
}

TEST_CASE("RFC 4733: one digit per event, hostile payloads ignored")
{
    Rfc4733Receiver r(8000);
    const uint8_t five_end[] = {5, 0x80, 0x03, 0x20}; // end bit, 800 units
    const uint8_t five_mid[] = {5, 0x00, 0x01, 0x40};
    CHECK(!r.feed(five_mid, sizeof five_mid, 100));
    auto d = r.feed(five_end, sizeof five_end, 100);
    REQUIRE(d);
    CHECK(d->digit == '5');
    CHECK(d->duration_ms == 100);
    CHECK(!r.feed(five_end, sizeof five_end, 100)); // the end packet's retransmissions
    CHECK(!r.feed(five_end, 3, 200));               // truncated
    CHECK(!r.feed(nullptr, 0, 300));
    const uint8_t flash[] = {16, 0x80, 0, 0};
    CHECK(!r.feed(flash, sizeof flash, 400));
    const uint8_t huge[] = {255, 0xff, 0xff, 0xff};
    CHECK(!r.feed(huge, sizeof huge, 500));
    Rfc4733Receiver zero_rate(0); // a bad clock rate divides nothing
    auto z = zero_rate.feed(five_end, sizeof five_end, 1);
    REQUIRE(z);
    CHECK(z->duration_ms == 0);
}

TEST_CASE("digit rate bound: a burst of 20, then 10 per second")
{
    DigitRateLimit limit(10, 20);
    int allowed = 0;
    for (int i = 0; i < 1000; ++i) // a flood within one millisecond
        allowed += limit.check(i) == DigitRateLimit::Verdict::Allow;
    CHECK(allowed == 20);
    CHECK(limit.check(1001) == DigitRateLimit::Verdict::Refuse); // no second "first refused"
    CHECK(limit.check(1000 + s / 10 + 1) == DigitRateLimit::Verdict::Allow); // refilled one in 100 ms
    CHECK(limit.check(1000 + s / 10 + 2) == DigitRateLimit::Verdict::RefuseFirst);
    allowed = 0; // a keypad's pace (one per 100 ms) is never refused
    for (int i = 0; i < 100; ++i)
        allowed += limit.check(10 * s + i * (s / 10)) == DigitRateLimit::Verdict::Allow;
    CHECK(allowed == 100);
}

TEST_CASE("SIP INFO bodies")
{
    auto relay = parse_info("application/dtmf-relay", "Signal=5\r\nDuration=160\r\n");
    CHECK(relay.kind == InfoContent::Kind::Dtmf);
    CHECK(relay.digit == '5');
    CHECK(relay.duration_ms == 160);
    CHECK(parse_info("Application/DTMF-Relay; charset=x", "signal= # \r\n").digit == '#');
    CHECK(parse_info("application/dtmf", "11").digit == '#');
    CHECK(parse_info("application/dtmf", "10").digit == '*');
    // Durations from the network: out of range or not a number count as none.
    CHECK(parse_info("application/dtmf-relay", "Signal=1\r\nDuration=99999999999999999999\r\n").duration_ms == 0);
    CHECK(parse_info("application/dtmf-relay", "Signal=1\r\nDuration=-5\r\n").duration_ms == 0);
    CHECK(parse_info("application/dtmf-relay", "Signal=1\r\nDuration=12abc\r\n").duration_ms == 0);
    CHECK(parse_info("application/dtmf-relay", "Signal=1\r\nDuration=60001\r\n").duration_ms == 0);
    CHECK(parse_info("application/dtmf-relay", "Signal=1\r\nDuration=60000\r\n").duration_ms == 60000);
    CHECK(parse_info("application/dtmf-relay", "Duration=100\r\n").kind == InfoContent::Kind::Malformed);
    CHECK(parse_info("application/dtmf-relay", "Signal=55\r\n").kind == InfoContent::Kind::Malformed);
    CHECK(parse_info("application/dtmf-relay", std::string("Signal=\0" "5", 9)).kind == InfoContent::Kind::Malformed);
    CHECK(parse_info("application/dtmf-relay", "").kind == InfoContent::Kind::Malformed);
    CHECK(parse_info("application/dtmf", "E").kind == InfoContent::Kind::Malformed);
    CHECK(parse_info("application/media_control+xml", "<picture_fast_update/>").kind ==
          InfoContent::Kind::PictureFastUpdate);
    CHECK(parse_info("text/plain", "5").kind == InfoContent::Kind::Unsupported);
    CHECK(parse_info("text/plain", "5").status() == 415);
}
