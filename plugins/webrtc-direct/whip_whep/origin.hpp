// Web origins (RFC 6454: scheme, host, port) of absolute http(s) URLs: a
// client's credentials go to the origin they were configured for only.
#pragma once

#include <string>

namespace webrtcdirect {

// True when both URLs parse and have the same scheme, host and port (the
// scheme's default port when none is written); case-insensitive.
bool same_origin(const std::string &a, const std::string &b);

} // namespace webrtcdirect
