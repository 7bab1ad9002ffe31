// Trickle ICE SDP fragments (RFC 8840, media type
// application/trickle-ice-sdpfrag) for the PATCH requests of a WHIP/WHEP
// client: per m-line of our offer its m= line, mid and ICE credentials
// (they tell the server which ICE session the candidates belong to), then
// the new candidates. And the server side: reading a client's fragment.
#pragma once

#include <glib.h>

#include <string>
#include <utility>
#include <vector>

namespace webrtcdirect {

class TrickleFragment {
public:
    // Learns the m-lines and ICE credentials of our offer; false with `error`
    // naming the missing field.
    bool set_offer(const std::string &sdp, std::string &error);
    // `candidates`: (m-line index, "candidate:..." as webrtcbin gives them).
    std::string build(const std::vector<std::pair<guint, std::string>> &candidates) const;

private:
    struct MLine {
        std::string m, mid, ufrag, pwd; // m: "audio 9 UDP/TLS/RTP/SAVPF 111"
    };
    std::vector<MLine> mlines_;
};

// A fragment PATCHed to one of our session resources: its a=candidate lines
// ("candidate:..." each, with the m-line index that its a=mid selects among
// `mids`, the offer's; m-line 0 before any a=mid) and whether it says
// a=end-of-candidates. False with `error` for an a=mid the offer lacks.
struct RemoteCandidates {
    std::vector<std::pair<guint, std::string>> candidates;
    bool end = false;
};
bool parse_trickle_fragment(const std::string &fragment, const std::vector<std::string> &mids, RemoteCandidates &out,
                            std::string &error);

} // namespace webrtcdirect
