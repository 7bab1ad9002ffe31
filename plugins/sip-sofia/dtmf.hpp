// RFC 4733 telephone-event payloads -> one digit per key press. An event's
// packets share one RTP timestamp; its end packet is sent three times, so
// the digit is reported on the first end packet of each timestamp only.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>

namespace sipsofia {

struct DtmfDigit {
    char digit;          // 0-9 * # A-D
    int duration_ms;     // from the end packet
};

class Rfc4733Receiver {
public:
    // `clock_rate`: the telephone-event payload type's rate (durations are in its units).
    explicit Rfc4733Receiver(int clock_rate = 8000) : clock_rate_(clock_rate) {}
    // One RTP payload of the telephone-event type and its RTP timestamp.
    std::optional<DtmfDigit> feed(const uint8_t *payload, size_t size, uint32_t rtp_timestamp);

private:
    int clock_rate_;
    bool have_last_ = false;
    uint32_t last_reported_ = 0;
};

// '0'..'9', '*', '#', 'A'..'D' for events 0-15; 0 for the others (flash...).
char dtmf_event_char(int event);

} // namespace sipsofia
