// Built against a future ABI: refused before anything else is read. Should
// the loader ever call into it, the test process aborts.
#include <mediagw/plugin.h>

#include <cstdlib>

static mgw_node *create(const mgw_node_init *, char **) { std::abort(); }

extern "C" MGW_EXPORT const mgw_plugin_info MGW_PLUGIN_SYMBOL = {
    MGW_ABI_VERSION + 1, sizeof(mgw_plugin_info), "wrong-abi", "1.0", "Future ABI", nullptr, nullptr, nullptr, 0,
    nullptr, 0, create, sizeof(mgw_property_spec), sizeof(mgw_port_spec)};
