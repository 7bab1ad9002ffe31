// Claims a descriptor smaller than this core's: refused.
#include <mediagw/plugin.h>

#include <cstdlib>

static mgw_node *create(const mgw_node_init *, char **) { std::abort(); }

// Runs if the module is ever loaded: the loader must refuse it from the file.
__attribute__((constructor)) static void loaded() { std::abort(); }

extern "C" MGW_EXPORT const mgw_plugin_info MGW_PLUGIN_SYMBOL = {
    MGW_ABI_VERSION, 8, "small-info", "1.0", "Truncated descriptor", nullptr, nullptr, nullptr, 0, nullptr, 0, create,
    0, 0, nullptr};
