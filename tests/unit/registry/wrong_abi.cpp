// Built against a future ABI: refused from the file, before it is loaded.
// Should the loader ever load or call into it, the test process aborts.
#include <mediagw/plugin.h>

#include <cstdlib>

static mgw_node *create(const mgw_node_init *, char **) { std::abort(); }

// Runs if the module is ever loaded: the loader must refuse it from the file.
__attribute__((constructor)) static void loaded() { std::abort(); }

extern "C" MGW_EXPORT const mgw_plugin_info MGW_PLUGIN_SYMBOL = {
    MGW_ABI_VERSION + 1, sizeof(mgw_plugin_info), "wrong-abi", "1.0", "Future ABI", nullptr, nullptr, nullptr, 0,
    nullptr, 0, create, sizeof(mgw_property_spec), sizeof(mgw_port_spec), nullptr};
