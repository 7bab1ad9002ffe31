// test-short-ops: its mgw_node_ops ends after `stop` (ops->size says so).
// The slots after it hold functions that abort: the host must treat them as
// NULL - no event delivered, no query asked, no destroy called.
#include <mediagw/plugin.h>

#include <cstdlib>

namespace {

struct ShortNode {
    mgw_node base;
    GstElement *bin;
    mgw_host *host;
    const mgw_host_api *api;
};

ShortNode *self(mgw_node *n) { return reinterpret_cast<ShortNode *>(n); }

GstElement *element(mgw_node *n) { return self(n)->bin; }
gboolean start(mgw_node *, char **) { return TRUE; }
void stop(mgw_node *n) { self(n)->api->stopped(self(n)->host); }
void event(mgw_node *, const char *, const GstStructure *) { std::abort(); }
GstStructure *query(mgw_node *, const char *) { std::abort(); }
void destroy(mgw_node *) { std::abort(); }

const mgw_node_ops ops = {offsetof(mgw_node_ops, event), element, start, stop, event, query, destroy};

mgw_node *create(const mgw_node_init *init, char **)
{
    // Never destroyed (the host cannot): the bin stays with the pipeline.
    GstElement *bin = gst_bin_new(init->node_name);
    return &(new ShortNode{{&ops}, bin, init->host, init->api})->base;
}

} // namespace

extern "C" MGW_EXPORT const mgw_plugin_info MGW_PLUGIN_SYMBOL = {
    MGW_ABI_VERSION, sizeof(mgw_plugin_info), "test-short-ops", "1.0", "Ops without event, query, destroy", nullptr,
    nullptr, nullptr, 0, nullptr, 0, create, sizeof(mgw_property_spec), sizeof(mgw_port_spec), nullptr};
