// test-types: one property of each scalar type (validation only).
#include "stub.hpp"

namespace {

constexpr mgw_property_spec properties[] = {
    mediagw::prop::integer("port", "5060", "an integer"),
    mediagw::prop::number("gain", "1.5", "a number"),
    mediagw::prop::boolean("enabled", "true", "a boolean"),
    mediagw::prop::choice("mode", "fast|slow|auto", "auto", "an enum"),
    mediagw::prop::list("servers", nullptr, "a list"),
    mediagw::prop::string("token", nullptr, "a secret", mediagw::prop::secret),
    mediagw::prop::string("host", "localhost", "a string"),
};

using Types = testplugin::Stub<nullptr, 0>;

} // namespace

MEDIAGW_PLUGIN(Types, "test-types", "1.0", "Test property types", nullptr, nullptr, properties, nullptr);
