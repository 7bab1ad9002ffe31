// test-abi-future: built by a newer SDK that appended fields to the
// descriptor and to both spec structures. This host reads what it knows and
// steps through the arrays by the declared element sizes.
#include "stub.hpp"

#include <cstdint>

namespace {

struct FutureProperty {
    mgw_property_spec base;
    const char *unit; // appended by the "newer" SDK
};
struct FuturePort {
    mgw_port_spec base;
    uint64_t max_channels;
};
struct FutureInfo {
    mgw_plugin_info base;
    const char *homepage;
    uint64_t flags;
};

constexpr FutureProperty properties[] = {
    {mediagw::prop::integer("level", "3", "a level"), "dB"},
    {mediagw::prop::string("label", "future", "a label"), nullptr},
};
constexpr FuturePort ports[] = {
    {mediagw::port::output("audio", mediagw::port::audio, "audio/x-raw", "nothing"), 2},
    {mediagw::port::input("audio", mediagw::port::audio, "audio/x-raw", "nothing"), 2},
};
constexpr mgw_port_spec plain_ports[] = {ports[0].base, ports[1].base};

using Node = testplugin::Stub<plain_ports, 2>;

} // namespace

extern "C" MGW_EXPORT const FutureInfo MGW_PLUGIN_SYMBOL = {
    {MGW_ABI_VERSION, sizeof(FutureInfo), "test-abi-future", "2.0", "Built by a newer SDK", nullptr, nullptr,
     &properties[0].base, 2, &ports[0].base, 2, mediagw::detail::create<Node>, sizeof(FutureProperty),
     sizeof(FuturePort), "level.*"},
    "https://example.org",
    0xffffffffffffffffu,
};
