#include "media/dtmf.hpp"

#include <algorithm>

namespace sipsofia {

char dtmf_event_char(int event)
{
    static const char map[] = "0123456789*#ABCD";
    return event >= 0 && event < 16 ? map[event] : 0;
}

DigitRateLimit::Verdict DigitRateLimit::check(int64_t now_us)
{
    std::lock_guard lock(mutex_);
    if (last_us_ >= 0 && now_us > last_us_)
        tokens_ = std::min(burst_, tokens_ + static_cast<double>(now_us - last_us_) * rate_ / 1e6);
    last_us_ = now_us;
    if (tokens_ >= 1) {
        tokens_ -= 1;
        refusing_ = false;
        return Verdict::Allow;
    }
    const bool first = !refusing_;
    refusing_ = true;
    return first ? Verdict::RefuseFirst : Verdict::Refuse;
}

std::optional<DtmfDigit> Rfc4733Receiver::feed(const uint8_t *p, size_t size, uint32_t ts)
{
    if (size < 4)
        return std::nullopt;
    const bool end = p[1] & 0x80;
    const char c = dtmf_event_char(p[0]);
    if (!end || !c || (have_last_ && ts == last_reported_))
        return std::nullopt;
    have_last_ = true;
    last_reported_ = ts;
    const int duration = (p[2] << 8) | p[3];
    return DtmfDigit{c, clock_rate_ > 0 ? duration * 1000 / clock_rate_ : 0};
}

} // namespace sipsofia
