/* A module built for a future plugin ABI: the loader must refuse it after
 * reading abi_version, naming the file and both versions, and never call it. */
#include <mediagw/plugin.h>
#include <stdlib.h>

static mgw_node *create(const mgw_node_init *init, char **error)
{
    (void)init;
    (void)error;
    abort(); /* reached only if the loader ignored the ABI version */
}

/* Runs if the module is ever loaded: the loader must refuse it from the
 * file, before dlopen(). */
__attribute__((constructor)) static void loaded(void) { abort(); }

MGW_EXPORT const mgw_plugin_info MGW_PLUGIN_SYMBOL = {
    MGW_ABI_VERSION + 1, sizeof(mgw_plugin_info), "badabi", "0.0.1", "built for a newer plugin ABI",
    NULL, NULL, NULL, 0, NULL, 0, create,
};
