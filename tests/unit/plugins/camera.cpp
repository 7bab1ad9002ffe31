// test-camera: a video output (validation only).
#include "stub.hpp"

namespace {

constexpr mgw_port_spec ports[] = {
    mediagw::port::output("video", mediagw::port::video, "video/x-raw", "pictures"),
};

using Camera = testplugin::Stub<ports, mediagw::count(ports)>;

} // namespace

MEDIAGW_PLUGIN(Camera, "test-camera", "1.0", "Test video source", nullptr, nullptr, nullptr, ports);
