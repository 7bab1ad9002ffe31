// Which sources may feed a call's RTP port (RTP-bleed protection). Pure
// logic, no GStreamer: the Latch (latching.hpp) applies it to packets.
//
//   learn (default): the first source latches; until `window` after the
//     offer/answer a packet from the exact SDP address:port may still take
//     over (rtpengine's "heuristic" learning); after that the latch is
//     locked: every other source is dropped. A new offer/answer relearns.
//   sdp: only the SDP address:port is accepted (no NAT traversal).
//   any: the first source latches, packets from every source are accepted
//     (the behaviour before, open to RTP bleed: anyone who finds the port
//     is heard; only behind a firewall that does the filtering).
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace sipsofia {

enum class SourcePolicy { Learn, Sdp, Any };

// "learn", "sdp", "any"; nullopt otherwise.
std::optional<SourcePolicy> parse_source_policy(const std::string &text);

struct Endpoint {
    std::string address; // numeric, as g_inet_address_to_string() writes it
    int port = 0;
    bool operator==(const Endpoint &) const = default;
};

class SourceFilter {
public:
    enum class Verdict {
        Accept,        // from the latched (or allowed) source
        Latch,         // accept, and send to this source from now on
        Drop,          // a stranger
        DropFirstTime, // a stranger, the first one dropped since reset (log it)
    };

    SourceFilter() = default;
    // `sdp`: what the peer's SDP said (address "" = none usable); `now_us`
    // and `window_us`: monotonic microseconds of the offer/answer and the
    // learning window after it.
    SourceFilter(SourcePolicy policy, Endpoint sdp, int64_t now_us, int64_t window_us = 3'000'000)
        : policy_(policy), sdp_(std::move(sdp)), learn_until_(now_us + window_us)
    {
    }

    Verdict check(const Endpoint &from, int64_t now_us);
    const std::optional<Endpoint> &latched() const { return latched_; }
    uint64_t dropped() const { return dropped_; }

private:
    Verdict latch(const Endpoint &from);
    Verdict drop();

    SourcePolicy policy_ = SourcePolicy::Learn;
    Endpoint sdp_;
    int64_t learn_until_ = 0;
    std::optional<Endpoint> latched_;
    bool final_ = false; // latched to the SDP address itself: no further change
    uint64_t dropped_ = 0;
};

} // namespace sipsofia
