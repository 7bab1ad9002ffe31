// Lives in a subdirectory of a search directory.
#include "stub_plugin.hpp"

MEDIAGW_PLUGIN(Nothing, "nested", "1.0", "Found one level down", nullptr, nullptr, properties, nullptr);
