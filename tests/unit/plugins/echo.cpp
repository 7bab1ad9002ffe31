// test-echo: an audio input and an audio output of the same name (validation only).
#include "stub.hpp"

namespace {

constexpr mgw_port_spec ports[] = {
    mediagw::port::input("audio", mediagw::port::audio, "audio/x-raw", "audio in", mediagw::port::required),
    mediagw::port::output("audio", mediagw::port::audio, "audio/x-raw", "the same audio out"),
};

using Echo = testplugin::Stub<ports, mediagw::count(ports)>;

} // namespace

MEDIAGW_PLUGIN(Echo, "test-echo", "1.0", "Test echo", nullptr, nullptr, nullptr, ports);
