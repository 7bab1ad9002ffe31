// A turn node's answer to query("ice-servers") as the page wants it: JSON
// text of an RTCIceServer array ("turn://user:pass@host:port?transport=udp"
// becomes {"urls": "turn:host:port?transport=udp", "username", "credential"}),
// for join scripts (${ice_servers}). nullptr: "[]".
#pragma once

#include <gst/gst.h>

#include <string>

namespace browsercapture {

std::string rtc_ice_servers_json(const GstStructure *servers);

} // namespace browsercapture
