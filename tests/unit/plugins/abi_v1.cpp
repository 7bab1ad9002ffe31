// test-abi-v1: a source built against the ABI 1 layout as first shipped
// (abi_v1_layout.h, no node.hpp, no current plugin.h): a smaller descriptor,
// no element sizes. It must keep loading and running.
#include "abi_v1_layout.h"

#include <new>

namespace {

struct V1Node {
    mgw_node base;
    GstElement *bin;
    mgw_host *host;
    const mgw_host_api *api;
};

V1Node *self(mgw_node *n) { return reinterpret_cast<V1Node *>(n); }

GstElement *element(mgw_node *n) { return self(n)->bin; }
gboolean start(mgw_node *, char **) { return TRUE; }
void stop(mgw_node *n) { self(n)->api->stopped(self(n)->host); }
void event(mgw_node *, const char *, const GstStructure *) {}
GstStructure *query(mgw_node *, const char *) { return nullptr; }
void destroy(mgw_node *n)
{
    gst_object_unref(self(n)->bin);
    delete self(n);
}

const mgw_node_ops ops = {sizeof(mgw_node_ops), element, start, stop, event, query, destroy};

mgw_node *create(const mgw_node_init *init, char **error)
{
    GstElement *src = gst_element_factory_make("audiotestsrc", nullptr);
    GstElement *filter = gst_element_factory_make("capsfilter", nullptr);
    if (!src || !filter) {
        *error = g_strdup("audiotestsrc/capsfilter missing");
        return nullptr;
    }
    gint64 buffers = 0;
    gst_structure_get_int64(init->properties, "buffers", &buffers);
    g_object_set(src, "is-live", FALSE, "num-buffers", (int)buffers, "samplesperbuffer", 960, nullptr);
    GstCaps *caps = gst_caps_from_string("audio/x-raw, format=S16LE, rate=48000, channels=1");
    g_object_set(filter, "caps", caps, nullptr);
    gst_caps_unref(caps);
    GstElement *bin = GST_ELEMENT(gst_object_ref_sink(gst_bin_new(init->node_name)));
    gst_bin_add_many(GST_BIN(bin), src, filter, nullptr);
    gst_element_link(src, filter);
    GstPad *out = gst_element_get_static_pad(filter, "src");
    GstPad *ghost = gst_ghost_pad_new("src_audio", out);
    gst_object_unref(out);
    gst_pad_set_active(ghost, TRUE);
    gst_element_add_pad(bin, ghost);
    init->api->log(init->host, MGW_LOG_DEBUG, "an ABI 1 node");
    return &(new V1Node{{&ops}, bin, init->host, init->api})->base;
}

const mgw_property_spec properties[] = {
    {"buffers", MGW_PROP_INT, 0, "10", nullptr, "20 ms buffers before EOS"},
};
const mgw_port_spec ports[] = {
    {"audio", MGW_PORT_OUTPUT, MGW_MEDIA_AUDIO, 0, "audio/x-raw", "a tone"},
};

} // namespace

extern "C" MGW_EXPORT const mgw_plugin_info MGW_PLUGIN_SYMBOL = {
    MGW_ABI_VERSION, sizeof(mgw_plugin_info), "test-abi-v1", "1.0", "Built against the ABI 1 layout", nullptr,
    nullptr, properties, 1, ports, 1, create};

static_assert(sizeof(mgw_plugin_info) == offsetof(mgw_plugin_info, create) + sizeof(void *),
              "abi_v1_layout.h must stay the layout without property_size/port_size");
