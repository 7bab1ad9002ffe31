#include "media/rtp_source_policy.hpp"

namespace sipsofia {

std::optional<SourcePolicy> parse_source_policy(const std::string &text)
{
    if (text == "learn")
        return SourcePolicy::Learn;
    if (text == "sdp")
        return SourcePolicy::Sdp;
    if (text == "any")
        return SourcePolicy::Any;
    return std::nullopt;
}

SourceFilter::Verdict SourceFilter::latch(const Endpoint &from)
{
    const bool changed = !latched_ || !(*latched_ == from);
    latched_ = from;
    final_ = !sdp_.address.empty() && from == sdp_;
    return changed ? Verdict::Latch : Verdict::Accept;
}

SourceFilter::Verdict SourceFilter::drop()
{
    return dropped_++ == 0 ? Verdict::DropFirstTime : Verdict::Drop;
}

SourceFilter::Verdict SourceFilter::check(const Endpoint &from, int64_t now_us)
{
    switch (policy_) {
    case SourcePolicy::Any:
        return latched_ ? Verdict::Accept : latch(from);
    case SourcePolicy::Sdp:
        return !sdp_.address.empty() && from == sdp_ ? Verdict::Accept : drop();
    case SourcePolicy::Learn:
        break;
    }
    if (latched_ && *latched_ == from)
        return Verdict::Accept;
    if (!latched_)
        return latch(from);
    // The SDP's own address wins over an earlier source while learning (a
    // stranger who raced the caller to the port loses it again).
    if (!final_ && now_us < learn_until_ && !sdp_.address.empty() && from == sdp_)
        return latch(from);
    return drop();
}

} // namespace sipsofia
