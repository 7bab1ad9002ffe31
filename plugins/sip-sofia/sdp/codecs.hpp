// The RTP codecs this plugin carries: SDP names, clock rates, the
// payloader/depayloader pair and the elementary caps of the node's ports.
// One table, so that SDP, the RTP chain and the port schema agree.
#pragma once

#include <string>

namespace sipsofia {

struct CodecInfo {
    const char *name;  // as written in a=rtpmap (compared case-insensitively)
    const char *media; // "audio" or "video"
    int clock_rate;    // the RTP clock (G.722: 8000 although it samples at 16 kHz)
    int channels;      // rtpmap encoding parameter; 0 = none written
    int static_pt;     // RFC 3551 static payload type, -1 for dynamic ones
    int offer_pt;      // payload type used in our own offers
    const char *payloader;
    const char *depayloader;
};

// nullptr when `name` is not in the table.
const CodecInfo *codec_info(const std::string &name);
// In the table and both RTP elements are installed: the node can really carry it.
bool codec_supported(const std::string &name);
// RFC 4733 named events (DTMF).
constexpr const char *telephone_event = "telephone-event";

} // namespace sipsofia
