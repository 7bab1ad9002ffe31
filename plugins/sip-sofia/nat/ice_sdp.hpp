// ICE in the SIP leg's SDP (RFC 8839; RFC 5245 as phones write it): what a
// peer's offer or answer says about ICE for its audio and video m= lines,
// and our ICE attributes added to the SDP that sdp_negotiation wrote. The
// default candidate (c=, m= port, a=rtcp) is already in that SDP: the ICE
// transport reports it as its address and ports.
#pragma once

#include <string>
#include <vector>

namespace sipsofia {

// One m= line of the peer's SDP.
struct RemoteIce {
    bool present = false; // ice-ufrag, ice-pwd and at least one UDP candidate
    bool lite = false;    // a=ice-lite (session level): then we control
    bool rtcp_mux = false;
    std::string ufrag, pwd;                // media level, else session level
    std::vector<std::string> candidates;   // "candidate:..." attribute lines (a= stripped), UDP only
    bool operator==(const RemoteIce &) const = default;
};

// The first audio and the first video m= line with a port (the ones
// sdp_negotiation takes); absent lines give an empty RemoteIce.
struct RemoteIceMedia {
    RemoteIce audio, video;
    bool any() const { return audio.present || video.present; }
};
RemoteIceMedia remote_ice(const std::string &sdp);

// What we add to one m= line.
struct LocalIce {
    std::string ufrag, pwd; // the pwd is a credential: never logged
    std::vector<std::string> candidates; // "candidate:..." values
    bool rtcp_mux = false; // answer a=rtcp-mux (the peer offered it)
};

// `sdp` with a=ice-ufrag, a=ice-pwd, a=candidate (and a=rtcp-mux) on its
// first audio and first video m= line with a port; nullptr skips a kind.
// "" when `sdp` does not parse.
std::string add_local_ice(const std::string &sdp, const LocalIce *audio, const LocalIce *video);

} // namespace sipsofia
