// test-video-sink: a required video input (validation only).
#include "stub.hpp"

namespace {

constexpr mgw_port_spec ports[] = {
    mediagw::port::input("video", mediagw::port::video, "video/x-raw", "pictures", mediagw::port::required),
};

using VideoSink = testplugin::Stub<ports, mediagw::count(ports)>;

} // namespace

MEDIAGW_PLUGIN(VideoSink, "test-video-sink", "1.0", "Test video sink", nullptr, nullptr, nullptr, ports);
