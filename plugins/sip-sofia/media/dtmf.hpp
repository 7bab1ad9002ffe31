// RFC 4733 telephone-event payloads -> one digit per key press. An event's
// packets share one RTP timestamp; its end packet is sent three times, so
// the digit is reported on the first end packet of each timestamp only.
#pragma once

#include <cstddef>
#include <cstdint>
#include <mutex>
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

// A bound on the digits a call reports, whatever their path (RFC 4733 on a
// streaming thread, SIP INFO on the main loop): a token bucket of `burst`
// digits refilled at `per_second`. A person keys at most ~10 digits/s
// (40 ms tone + 40 ms pause is the fastest RFC 4733 and Q.24 expect); a
// flood of events (distinct timestamps defeat the duplicate check above)
// is cut there instead of reaching every node as events.
class DigitRateLimit {
public:
    enum class Verdict { Allow, Refuse, RefuseFirst /* the first refused since the last allowed */ };
    explicit DigitRateLimit(double per_second = 10, double burst = 20)
        : rate_(per_second), burst_(burst), tokens_(burst)
    {
    }
    // Thread-safe. `now_us`: monotonic microseconds.
    Verdict check(int64_t now_us);

private:
    std::mutex mutex_;
    const double rate_, burst_;
    double tokens_;
    int64_t last_us_ = -1;
    bool refusing_ = false;
};

// '0'..'9', '*', '#', 'A'..'D' for events 0-15; 0 for the others (flash...).
char dtmf_event_char(int event);

} // namespace sipsofia
