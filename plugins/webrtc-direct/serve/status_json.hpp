// The served room's /status document (behind the bearer token, like the
// WHIP/WHEP endpoints: it names the caller).
#pragma once

#include <cstddef>
#include <string>

namespace webrtcdirect {

struct RoomStatus {
    bool active = false;    // a call is being served
    std::string caller;     // the caller's SIP URI or display name, as the SIP leg gave it
    size_t participants = 0;
    size_t sessions = 0;
};

// {"call":"active"|"waiting","caller":"...","participants":N,"sessions":N}:
// valid JSON whatever the caller string holds (quotes, control characters,
// invalid UTF-8 replaced by U+FFFD).
std::string status_json(const RoomStatus &status);

} // namespace webrtcdirect
