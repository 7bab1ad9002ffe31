// The WebRTC leg's RTP figures for a supervisor's metrics and call record
// (mediagw serve): what webrtcbin's get-stats reports, summed over the
// node's sessions and turned into an "rtp.stats" event with the same
// fields as sip-sofia's (audio_/video_ packets_sent, packets_received,
// packets_lost, jitter_ms).
#pragma once

#include <gst/gst.h>

#include <cstdint>

namespace webrtcdirect {

struct RtpFigures {
    std::uint64_t packets_sent = 0, packets_received = 0;
    std::int64_t packets_lost = 0;
    double jitter_ms = 0; // the worst stream's interarrival jitter
    void add(const RtpFigures &o);
};

struct LegStats {
    RtpFigures audio, video;
    bool any = false; // a report with at least one RTP stream came
    void add(const LegStats &o);
};

// From webrtcbin's get-stats reply (one structure per report, keyed by id):
// outbound-rtp gives packets sent, inbound-rtp packets received, lost and
// jitter. The kind comes from the report, else from its codec's clock rate.
LegStats leg_stats_from_webrtc(const GstStructure *reply);

// An "rtp.stats" event (the caller owns it).
GstStructure *rtp_stats_event(const LegStats &stats);

} // namespace webrtcdirect
