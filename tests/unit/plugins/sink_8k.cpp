// test-sink-8k: accepts only 8 kHz mono S16LE, so a 48 kHz source needs converters.
#include "sink.hpp"

namespace {

constexpr mgw_port_spec ports[] = {
    mediagw::port::input("audio", mediagw::port::audio, "audio/x-raw, format=S16LE, rate=8000, channels=1",
                         "narrowband audio", mediagw::port::required),
};

using Sink = testplugin::Sink<ports>;

} // namespace

MEDIAGW_PLUGIN(Sink, "test-sink-8k", "1.0", "Test 8 kHz audio sink", nullptr, nullptr, nullptr, ports);
