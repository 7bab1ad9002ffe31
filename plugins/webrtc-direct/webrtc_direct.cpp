// webrtc-direct: joins a room straight over WebRTC (webrtcbin, libnice).
// The schema is final for its first modes; the node itself lands with the
// WebRTC issues, and until then `run` refuses it instead of doing nothing.
#include <mediagw/node.hpp>

namespace {

constexpr mgw_property_spec properties[] = {
    mediagw::prop::choice("signalling", "serve|whip|whep|janus", "serve",
                          "serve: own page + WHIP/WHEP endpoints; whip/whep: client of a server; janus: videoroom"),
    mediagw::prop::string("listen", "127.0.0.1:8080", "serve mode: HTTP address and port"),
    mediagw::prop::string("url", "", "whip/whep/janus: the server URL"),
    mediagw::prop::string("token", "", "bearer token or room token", mediagw::prop::secret),
    mediagw::prop::string("room", "", "janus: room id"),
    mediagw::prop::string("pin", "", "janus: room PIN", mediagw::prop::secret),
    mediagw::prop::node("ice", "ice-servers", "a turn node giving STUN/TURN servers"),
    mediagw::prop::choice("video_layout", "speaker|grid", "speaker", "what the SIP side sees of several participants"),
};

constexpr mgw_port_spec ports[] = {
    mediagw::port::input("audio", mediagw::port::audio, "audio/x-opus; audio/x-raw", "audio sent to the room"),
    mediagw::port::input("video", mediagw::port::video, "video/x-vp8; video/x-h264; video/x-raw", "video sent to the room"),
    mediagw::port::output("audio", mediagw::port::audio, "audio/x-opus", "audio from the room"),
    mediagw::port::output("video", mediagw::port::video, "video/x-vp8; video/x-h264", "video from the room"),
};

class WebrtcDirect : public mediagw::Node {
public:
    explicit WebrtcDirect(const mgw_node_init *init) : Node(init)
    {
        throw mediagw::Error("plugin 'webrtc-direct' is not implemented yet (issues #5 and #6)");
    }
};

} // namespace

MEDIAGW_PLUGIN(WebrtcDirect, "webrtc-direct", "0.1.0", "Joins a web conference room over WebRTC (not implemented yet)",
               nullptr, "participant.joined,participant.left,room.joined,room.left,room.failed", properties, ports);
