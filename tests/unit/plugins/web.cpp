// test-web: a MGW_PROP_NODE property needing a node that provides "ice-servers".
#include "stub.hpp"

namespace {

constexpr mgw_property_spec properties[] = {
    mediagw::prop::node("ice", "ice-servers", "the node giving ICE servers", mediagw::prop::required),
};

constexpr mgw_port_spec ports[] = {
    mediagw::port::input("audio", mediagw::port::audio, "audio/x-raw", "audio to send"),
    mediagw::port::output("audio", mediagw::port::audio, "audio/x-raw", "audio received"),
};

using Web = testplugin::Stub<ports, mediagw::count(ports)>;

} // namespace

MEDIAGW_PLUGIN(Web, "test-web", "1.0", "Test WebRTC-like node", nullptr, "call.established,call.ended", properties,
               ports);
