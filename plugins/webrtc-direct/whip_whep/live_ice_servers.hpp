// ICE servers learnt after the offer went out (the Link headers of a WHIP/WHEP
// 201) added to a webrtcbin that is already gathering. webrtcbin applies
// add-turn-server to the ICE streams it creates later only, so each TURN
// server is also handed to libnice's live streams, which then allocate a
// relay for every host candidate; those candidates come as on-ice-candidate
// and are trickled like any late one.
#pragma once

#include "whip_whep/ice_server_links.hpp"

#include <gst/gst.h>

#include <string>
#include <vector>

namespace webrtcdirect {

// Returns one line per server for the log (URIs, never credentials);
// unusable servers are skipped with the reason.
std::vector<std::string> add_live_ice_servers(GstElement *webrtcbin, const std::vector<IceServer> &servers);

} // namespace webrtcdirect
