// SDP offer/answer for the SIP leg (RFC 3264), with GstSdpMessage: Sofia's
// own SOA is disabled so that one SDP implementation is used.
//
// Two ways in:
//  - negotiate(): a peer's offer -> our answer (incoming INVITE, re-INVITE);
//  - create_offer() + apply_answer(): our offer (outbound INVITE, or the 200 OK
//    to an INVITE without SDP, "delayed offer") and later the peer's answer
//    (the 200 OK, or the ACK).
// Both give a Negotiation that RtpMedia::start() takes.
#pragma once

#include "sdp/codecs.hpp"
#include "sdp/srtp.hpp"

#include <string>
#include <vector>

namespace sipsofia {

// The codec one stream uses, as the RTP elements need it.
struct Codec {
    std::string name; // canonical table name: "PCMU", "PCMA", "G722", "opus", "VP8", "H264"
    int payload_type = 0;
    int clock_rate = 8000;
    int channels = 0;  // rtpmap encoding parameter (opus: 2), 0 = none
    int ptime_ms = 20; // audio packetisation
    std::string fmtp;  // the parameters we agreed on (H.264 profile, opus fec...)
    bool operator==(const Codec &) const = default;
};

// One negotiated m= line.
struct Stream {
    bool active = false; // false: refused, absent or port 0
    Codec codec;
    int dtmf_pt = -1;    // RFC 4733 telephone-event payload type (audio), -1 = none
    int dtmf_rate = 8000;
    bool nack_pli = false; // RTCP feedback both sides agreed on (video)
    bool ccm_fir = false;
    std::string remote_address;
    int remote_rtp_port = 0;
    int remote_rtcp_port = 0;
    bool remote_sends = true;    // false for recvonly/inactive (hold) or c=0.0.0.0
    bool remote_receives = true; // false for sendonly/inactive or c=0.0.0.0: we must not send (RFC 3264 6.1)
    SrtpSession srtp;         // RTP/SAVP(F) with SDES keys
    bool operator==(const Stream &) const = default;
};

struct Negotiation {
    bool ok = false;
    int status = 0;     // when !ok: 400 (unusable SDP) or 488 (nothing acceptable)
    std::string reason; // when !ok: for the Warning header and the log
    Stream audio, video;
    // The audio stream's, kept for the callers written before video existed.
    Codec codec;
    std::string remote_address;
    int remote_rtp_port = 0;
    int remote_rtcp_port = 0;
    bool remote_sends = true;
    std::string answer; // negotiate(): our SDP answer; empty from apply_answer()
};

struct LocalMedia {
    std::string address; // for o= and c=
    int rtp_port = 0;    // audio
    unsigned long long session_id = 0;
    unsigned long long version = 0; // bumped for each SDP within a call
    int video_rtp_port = 0;         // 0: no video socket, video m= lines are refused
    // Which offers negotiate() takes: RTP/AVP, RTP/SAVP with a=crypto, or
    // both; and the SRTP master keys we answer with (one per call, so a
    // re-INVITE keeps them).
    SrtpMode srtp = SrtpMode::Optional;
    std::string audio_key{}, video_key{};
    // RTCP ports other than the RTP port + 1 (a TURN relay's) are announced
    // with a=rtcp (RFC 3605); 0 = the RTP port + 1.
    int rtcp_port = 0, video_rtcp_port = 0;
};

// Answer `offer`. `codecs` lists audio and video codec names in our order of
// preference (each is matched against m= lines of its own media); the first
// audio and the first video stream over RTP/AVP(F) or, per local.srtp,
// RTP/SAVP(F) with an a=crypto suite we take, get the best common codec;
// every other m= line is refused with port 0 (RFC 3264 section 6).
// telephone-event and RTCP feedback (nack pli, ccm fir) are answered when offered.
Negotiation negotiate(const std::string &offer, const std::vector<std::string> &codecs, const LocalMedia &local);

// Our offer: one audio m= line with every supported audio codec of `codecs`
// (in that order) plus telephone-event/8000, and, when local.video_rtp_port
// is set and `codecs` names a video codec, a video m= line (rtcp-fb nack pli,
// ccm fir). "" when no codec of `codecs` is supported. Keep the returned
// text: apply_answer() needs it.
std::string create_offer(const std::vector<std::string> &codecs, const LocalMedia &local);

// The peer's answer to `our_offer` (as create_offer returned it). Fails with
// 488 when the answer picks nothing we offered, 400 when it is unusable.
Negotiation apply_answer(const std::string &answer, const std::string &our_offer);

} // namespace sipsofia
