// SDP offer/answer for the SIP leg (RFC 3264), with GstSdpMessage: Sofia's
// own SOA is disabled so that one SDP implementation is used.
#pragma once

#include <string>
#include <vector>

namespace sipsofia {

// The codec a call uses, as the RTP elements need it.
struct Codec {
    std::string name; // "PCMU" or "PCMA"
    int payload_type = 0;
    int clock_rate = 8000;
    int ptime_ms = 20;
    bool operator==(const Codec &) const = default;
};

// Codecs this plugin can carry (G.711 only in this slice).
bool codec_supported(const std::string &name);

struct Negotiation {
    bool ok = false;
    int status = 0;     // when !ok: 400 (unusable SDP) or 488 (nothing acceptable)
    std::string reason; // when !ok: for the Warning header and the log
    Codec codec;
    std::string remote_address;
    int remote_rtp_port = 0;
    int remote_rtcp_port = 0;
    bool remote_sends = true; // false for recvonly/inactive offers (hold)
    std::string answer;       // SDP text
};

struct LocalMedia {
    std::string address; // for o= and c=
    int rtp_port = 0;
    unsigned long long session_id = 0;
    unsigned long long version = 0; // bumped for each answer within a call
};

// Answer `offer`: the first audio stream over RTP/AVP gets the first of the
// offer's formats that is in `codecs`; every other m= line is refused with
// port 0, as RFC 3264 section 6 requires.
Negotiation negotiate(const std::string &offer, const std::vector<std::string> &codecs, const LocalMedia &local);

} // namespace sipsofia
