// browser-capture: joins a room through a real browser (Chromium over the
// DevTools protocol) and captures what it shows and plays. Not implemented
// yet: `run` refuses it instead of doing nothing.
#include <mediagw/node.hpp>

namespace {

constexpr mgw_property_spec properties[] = {
    mediagw::prop::string("url", nullptr, "the conference page to open", mediagw::prop::required),
    mediagw::prop::string("browser", "/usr/bin/chromium", "the browser executable"),
    mediagw::prop::integer("width", "1280", "captured width in pixels"),
    mediagw::prop::integer("height", "720", "captured height in pixels"),
    mediagw::prop::integer("framerate", "25", "captured frames per second"),
    mediagw::prop::node("ice", "ice-servers", "a turn node giving STUN/TURN servers"),
};

constexpr mgw_port_spec ports[] = {
    mediagw::port::input("audio", mediagw::port::audio, "audio/x-raw", "the browser's microphone"),
    mediagw::port::input("video", mediagw::port::video, "video/x-raw", "the browser's camera"),
    mediagw::port::output("audio", mediagw::port::audio, "audio/x-raw", "what the page plays"),
    mediagw::port::output("video", mediagw::port::video, "video/x-raw", "what the page shows"),
};

class BrowserCapture : public mediagw::Node {
public:
    explicit BrowserCapture(const mgw_node_init *init) : Node(init)
    {
        throw mediagw::Error("plugin 'browser-capture' is not implemented yet");
    }
};

} // namespace

MEDIAGW_PLUGIN(BrowserCapture, "browser-capture", "0.1.0",
               "Joins a room through a headless browser and captures it (not implemented yet)", nullptr,
               "room.joined,room.left,room.failed", properties, ports);
