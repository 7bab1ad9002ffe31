// What an incoming INVITE says about the call, as call-time values that a
// pipeline reads as ${sip.user}, ${sip.header.x-room}, ...: the room is
// often chosen by the caller (dialled number, an X-Room header).
#pragma once

#include <sofia-sip/sip.h>

#include <string>
#include <utility>
#include <vector>

namespace sipsofia {

// Names the plugin declares (mgw_plugin_info.values).
inline constexpr const char *kCallFieldNames =
    "user,uri,from,from_user,from_name,to,to_user,call_id,source,header.*";

// Caller-written text, bounded: a field is cut at kMaxFieldBytes, control
// characters are dropped, at most kMaxHeaders X- headers are kept.
inline constexpr size_t kMaxFieldBytes = 256;
inline constexpr size_t kMaxHeaders = 16;

using CallFields = std::vector<std::pair<std::string, std::string>>;

// `source`: the address the INVITE came from.
CallFields call_fields(const sip_t *sip, const std::string &source);

} // namespace sipsofia
