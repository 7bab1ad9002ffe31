// The signalling side's look at a peer's SDP before the media side
// (sdp_negotiation) negotiates it: is it sane enough to negotiate at all,
// and does it put us on hold (RFC 3264 section 8.4, for call.held and
// call.resumed)?
#pragma once

#include <string>

namespace sipsofia {

// Does this SDP put us on hold: its first audio stream sendonly or
// inactive, or the old c=0.0.0.0 form? false for unparsable text.
bool sdp_is_hold(const std::string &sdp);

// 0 when `sdp` is fit to negotiate; else the status to refuse it with
// (400: unparsable, no m= line, a port beyond 65535, an active stream
// without c=) and `why` says what is wrong.
int sdp_check(const std::string &sdp, std::string &why);

} // namespace sipsofia
