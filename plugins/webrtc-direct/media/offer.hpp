// What a browser's SDP offer asks for, reduced to what webrtc-direct needs to
// answer it: per m-line the media kind and the payload type of the codec we
// pick (Opus; VP8 or H.264 with packetization-mode 1).
#pragma once

#include <string>
#include <vector>

namespace webrtcdirect {

struct OfferedMedia {
    std::string kind;     // "audio" / "video"
    std::string mid;
    int payload = -1;     // -1: nothing we can do in this m-line
    std::string codec;    // "OPUS", "VP8", "H264"
    std::string fmtp;     // of the chosen payload (H.264 profile), may be empty
    bool port_zero = false; // rejected by the offerer
};

struct Offer {
    std::vector<OfferedMedia> media;
};

// Parses `sdp`; false with `error` naming the field when it is not an SDP
// offer we can read. `video_codecs` is our preference order ("VP8", "H264").
bool parse_offer(const std::string &sdp, const std::vector<std::string> &video_codecs, Offer &out,
                 std::string &error);

// "111 opus/48000/2" (an a=rtpmap value): payload type 0-127 and encoding
// name; false when the value is anything else.
bool parse_rtpmap(const char *value, int &payload, std::string &encoding);

} // namespace webrtcdirect
