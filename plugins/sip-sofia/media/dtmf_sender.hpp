// RFC 4733 digits to the peer, written into the audio stream itself: while a
// digit plays, each packet leaving the payloader is replaced by a
// telephone-event packet carrying its SSRC, sequence number and (for the
// event's start) timestamp, so the peer sees one continuous stream. Events
// last `duration_ms` (growing duration field), end with three end packets,
// then a short gap of audio before the next digit. Needs audio flowing into
// the payloader (the node's audio input): that is what paces the events.
#pragma once

#include <gst/gst.h>

#include <cstdint>
#include <mutex>
#include <string>

namespace sipsofia {

class Rfc4733Sender {
public:
    // Watch `payloader`'s src pad; `event_rate`: the telephone-event clock
    // (durations are in its units).
    void attach(GstElement *payloader, int payload_type, int event_rate);
    // The elements are gone (stream stopped): drop the queue.
    void forget();
    // Any thread. Queues each DTMF digit of `digits` (0-9 * # A-D; others
    // are skipped); false when none was valid or no stream is attached.
    bool send(const std::string &digits, int duration_ms);

private:
    static GstPadProbeReturn on_packet(GstPad *pad, GstPadProbeInfo *info, gpointer self);
    GstBuffer *replace(GstBuffer *audio); // under mutex_; nullptr = let the audio through

    std::mutex mutex_;
    bool attached_ = false;
    int pt_ = 101;
    int rate_ = 8000;
    std::string queue_;
    int duration_ms_ = 160;
    // The digit being played.
    bool active_ = false;
    int event_ = 0;
    uint32_t start_ts_ = 0;
    GstClockTime start_pts_ = 0, played_ = 0;
    int ends_sent_ = 0;
    int gap_packets_ = 0;
};

// RFC 4733 event number of a DTMF digit, -1 for anything else.
int dtmf_event_number(char digit);

} // namespace sipsofia
