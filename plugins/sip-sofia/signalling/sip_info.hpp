// SIP INFO bodies the gateway understands: DTMF (application/dtmf-relay,
// "Signal=5\r\nDuration=160"; application/dtmf, "5") and video fast update
// requests (application/media_control+xml, RFC 5168 picture_fast_update).
#pragma once

#include <string>

namespace sipsofia {

struct InfoContent {
    enum class Kind { Dtmf, PictureFastUpdate, Malformed, Unsupported } kind = Kind::Unsupported;
    char digit = 0;        // Dtmf: 0-9 * # A-D
    int duration_ms = 0;   // Dtmf: 0 when not given
    int status() const     // the answer to the INFO
    {
        return kind == Kind::Unsupported ? 415 : kind == Kind::Malformed ? 400 : 200;
    }
};

InfoContent parse_info(const std::string &content_type, const std::string &body);

// Bodies for INFO we send.
std::string dtmf_relay_body(char digit, int duration_ms);
std::string picture_fast_update_body();
constexpr const char *kDtmfRelayType = "application/dtmf-relay";
constexpr const char *kMediaControlType = "application/media_control+xml";

// The content types we accept, for an Accept header on 415.
constexpr const char *kInfoAccept = "application/dtmf-relay, application/dtmf, application/media_control+xml";

} // namespace sipsofia
