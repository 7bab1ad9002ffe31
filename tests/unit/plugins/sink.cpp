// test-sink: any raw audio; a required input and a required string property.
#include "sink.hpp"

namespace {

constexpr mgw_property_spec properties[] = {
    mediagw::prop::string("path", nullptr, "where to write", mediagw::prop::required),
    mediagw::prop::string("label", "", "free text"),
};

constexpr mgw_port_spec ports[] = {
    mediagw::port::input("audio", mediagw::port::audio, "audio/x-raw", "audio to take", mediagw::port::required),
};

using Sink = testplugin::Sink<ports>;

} // namespace

MEDIAGW_PLUGIN(Sink, "test-sink", "1.0", "Test audio sink", nullptr, nullptr, properties, ports);
