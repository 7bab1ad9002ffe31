// test-ice: provides "ice-servers" to MGW_PROP_NODE properties (validation only).
#include "stub.hpp"

namespace {

constexpr mgw_property_spec properties[] = {
    mediagw::prop::list("servers", nullptr, "TURN/STUN URIs"),
};

using Ice = testplugin::Stub<nullptr, 0>;

} // namespace

MEDIAGW_PLUGIN(Ice, "test-ice", "1.0", "Test ICE server provider", "stun,ice-servers", nullptr, properties, nullptr);
