/* cvolume: a third-party plugin in plain C, against the installed SDK
 * (mediagw/plugin.h only, no C++ layer): scales audio by `factor`. It shows
 * what the C++ layer does for C++ plugins: the descriptor with its element
 * sizes, the ops table with its size, and host api members checked with
 * MGW_HAS_MEMBER before use (the host may be older than this header).
 *   cc -shared -fPIC -fvisibility=hidden -o mgw-cvolume.so cvolume.c \
 *      $(pkg-config --cflags --libs mediagw-plugin)
 */
#include <mediagw/plugin.h>

#include <string.h>

typedef struct cvolume {
    mgw_node base; /* first: the host sees a mgw_node */
    GstElement *bin;
    mgw_host *host;
    const mgw_host_api *api;
    double factor;
} cvolume;

static cvolume *self_of(mgw_node *node) { return (cvolume *)node; }

static void say(cvolume *self, mgw_log_level level, const char *message)
{
    if (MGW_HAS_MEMBER(mgw_host_api, self->api, log) && self->api->log)
        self->api->log(self->host, level, message);
}

static GstElement *element(mgw_node *node) { return self_of(node)->bin; }

static gboolean start(mgw_node *node, char **error)
{
    cvolume *self = self_of(node);
    (void)error;
    say(self, MGW_LOG_INFO, "cvolume started (plain C plugin)");
    if (MGW_HAS_MEMBER(mgw_host_api, self->api, emit) && self->api->emit)
        self->api->emit(self->host,
                        gst_structure_new("cvolume.started", "factor", G_TYPE_DOUBLE, self->factor, NULL));
    return TRUE;
}

static void stop(mgw_node *node)
{
    cvolume *self = self_of(node);
    if (MGW_HAS_MEMBER(mgw_host_api, self->api, stopped) && self->api->stopped)
        self->api->stopped(self->host);
}

static void event(mgw_node *node, const char *source, const GstStructure *event)
{
    (void)node;
    (void)source;
    (void)event;
}

static GstStructure *query(mgw_node *node, const char *what)
{
    if (strcmp(what, "factor") == 0)
        return gst_structure_new("cvolume.factor", "factor", G_TYPE_DOUBLE, self_of(node)->factor, NULL);
    return NULL;
}

static void destroy(mgw_node *node)
{
    gst_object_unref(self_of(node)->bin);
    g_free(node);
}

static const mgw_node_ops ops = {
    .size = sizeof(mgw_node_ops),
    .element = element,
    .start = start,
    .stop = stop,
    .event = event,
    .query = query,
    .destroy = destroy,
};

/* A ghost pad `name` on `bin` for `inner`'s pad `inner_pad`. */
static gboolean add_port(GstElement *bin, GstElement *inner, const char *inner_pad, const char *name)
{
    GstPad *target = gst_element_get_static_pad(inner, inner_pad);
    GstPad *ghost = target ? gst_ghost_pad_new(name, target) : NULL;
    if (target)
        gst_object_unref(target);
    if (!ghost)
        return FALSE;
    gst_pad_set_active(ghost, TRUE);
    return gst_element_add_pad(bin, ghost);
}

static mgw_node *create(const mgw_node_init *init, char **error)
{
    if (!MGW_HAS_MEMBER(mgw_node_init, init, api)) {
        *error = g_strdup("cvolume: the host's node init is too small");
        return NULL;
    }
    double factor = 1.0;
    gst_structure_get_double(init->properties, "factor", &factor);
    if (!(factor >= 0.0 && factor <= 10.0)) {
        *error = g_strdup_printf("cvolume: factor must be between 0 and 10 (got %g)", factor);
        return NULL;
    }
    GstElement *convert = gst_element_factory_make("audioconvert", NULL);
    GstElement *volume = gst_element_factory_make("volume", NULL);
    if (!convert || !volume) {
        if (convert)
            gst_object_unref(gst_object_ref_sink(convert));
        if (volume)
            gst_object_unref(gst_object_ref_sink(volume));
        *error = g_strdup("cvolume: GStreamer elements audioconvert/volume are missing");
        return NULL;
    }
    g_object_set(volume, "volume", factor, NULL);
    GstElement *bin = GST_ELEMENT(gst_object_ref_sink(gst_bin_new(init->node_name)));
    gst_bin_add_many(GST_BIN(bin), convert, volume, NULL);
    if (!gst_element_link(convert, volume) || !add_port(bin, convert, "sink", "sink_audio") ||
        !add_port(bin, volume, "src", "src_audio")) {
        gst_object_unref(bin);
        *error = g_strdup("cvolume: cannot link audioconvert ! volume or add its ports");
        return NULL;
    }
    cvolume *self = g_new0(cvolume, 1);
    self->base.ops = &ops;
    self->bin = bin;
    self->host = init->host;
    self->api = init->api;
    self->factor = factor;
    return &self->base;
}

static const mgw_property_spec properties[] = {
    {.name = "factor", .type = MGW_PROP_DOUBLE, .default_value = "1", .description = "linear gain, 0 to 10"},
};

static const mgw_port_spec ports[] = {
    {.name = "audio", .direction = MGW_PORT_INPUT, .kind = MGW_MEDIA_AUDIO, .flags = MGW_PORT_REQUIRED,
     .caps = "audio/x-raw", .description = "audio to scale"},
    {.name = "audio", .direction = MGW_PORT_OUTPUT, .kind = MGW_MEDIA_AUDIO, .caps = "audio/x-raw",
     .description = "the scaled audio"},
};

MGW_EXPORT const mgw_plugin_info MGW_PLUGIN_SYMBOL = {
    .abi_version = MGW_ABI_VERSION,
    .info_size = sizeof(mgw_plugin_info),
    .name = "cvolume",
    .version = "1.0.0",
    .description = "Scales audio by a linear factor (plain C SDK test plugin)",
    .events = "cvolume.started",
    .properties = properties,
    .n_properties = sizeof properties / sizeof properties[0],
    .ports = ports,
    .n_ports = sizeof ports / sizeof ports[0],
    .create = create,
    .property_size = sizeof(mgw_property_spec),
    .port_size = sizeof(mgw_port_spec),
};
