/* mediagw plugin ABI (C).
 *
 * A plugin is a shared module exporting one data symbol, MGW_PLUGIN_SYMBOL, of
 * type mgw_plugin_info.
 *
 * Loading. dlopen() runs a module's constructors (and its dependencies')
 * before the loader could look at anything, so the loader first reads the
 * file itself, without running it: it must be a 64-bit ELF shared object for
 * this machine whose dynamic symbol table defines MGW_PLUGIN_SYMBOL in a
 * section with file contents; `abi_version` and `info_size` (plain data, no
 * relocation touches them) are read from the file and a mismatch is refused
 * there. Only then is the module dlopen()ed and the rest of the descriptor
 * (pointers, filled by relocations) checked. So: a module whose ABI version
 * is wrong never runs, but a module that passes this check runs its
 * constructors before its schema is validated - keep constructors trivial.
 * The descriptor must be constant data (statically initialised, as
 * MEDIAGW_PLUGIN and a C initialiser make it): it is read from the file.
 *
 * Evolution (PipeWire's rule): structures only ever grow by appending fields,
 * and each says how much of itself its builder knew:
 *  - mgw_plugin_info.info_size: the host accepts any size that covers the
 *    ABI-1 fields (up to `create`) and reads only fields within info_size;
 *  - the property and port arrays step by `property_size` / `port_size`
 *    (appended fields; absent, they mean the ABI-1 element sizes);
 *  - mgw_node_ops.size: the host treats ops beyond it as NULL;
 *  - mgw_host_api.size and mgw_node_init.size: check them (MGW_HAS_MEMBER)
 *    before using a member, the host may be older than your header.
 * MGW_ABI_VERSION changes only when a field changes meaning or moves.
 * No C++ exception may leave any function called through this ABI.
 *
 * Media travels as GStreamer pads and caps; control travels as GstStructure
 * events. Nothing in this ABI crosses a module boundary as a C++ type.
 */
#ifndef MEDIAGW_PLUGIN_H
#define MEDIAGW_PLUGIN_H

#include <gst/gst.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define MGW_ABI_VERSION 1u
#define MGW_PLUGIN_SYMBOL mediagw_plugin_info
#define MGW_PLUGIN_SYMBOL_NAME "mediagw_plugin_info"

/* Does `ptr`, a structure of `type` starting with `uint32_t size` (host api,
 * node init, node ops), include `member`? False for a NULL pointer. */
#define MGW_HAS_MEMBER(type, ptr, member) \
    ((ptr) != NULL && (size_t)(ptr)->size >= offsetof(type, member) + sizeof(((type *)0)->member))

#if defined(__GNUC__)
#define MGW_EXPORT __attribute__((visibility("default")))
#else
#define MGW_EXPORT
#endif

typedef enum mgw_prop_type {
    MGW_PROP_STRING = 1, /* G_TYPE_STRING */
    MGW_PROP_INT = 2,    /* G_TYPE_INT64 */
    MGW_PROP_DOUBLE = 3, /* G_TYPE_DOUBLE (an integer literal is accepted) */
    MGW_PROP_BOOL = 4,   /* G_TYPE_BOOLEAN */
    MGW_PROP_ENUM = 5,   /* G_TYPE_STRING, one of `choices` ("a|b|c") */
    MGW_PROP_NODE = 6,   /* G_TYPE_STRING: name of another node that provides `choices` */
    MGW_PROP_STRING_LIST = 7, /* G_TYPE_STRV */
} mgw_prop_type;

typedef enum mgw_prop_flags {
    MGW_PROP_REQUIRED = 1u << 0,
    MGW_PROP_SECRET = 1u << 1, /* never printed in logs or errors */
} mgw_prop_flags;

typedef struct mgw_property_spec {
    const char *name;
    mgw_prop_type type;
    uint32_t flags;            /* mgw_prop_flags */
    const char *default_value; /* textual default, parsed by type; NULL = none */
    const char *choices;       /* ENUM: "a|b|c"; NODE: capability the target provides */
    const char *description;
} mgw_property_spec;

typedef enum mgw_media_kind { MGW_MEDIA_AUDIO = 1, MGW_MEDIA_VIDEO = 2 } mgw_media_kind;
typedef enum mgw_port_direction { MGW_PORT_INPUT = 1, MGW_PORT_OUTPUT = 2 } mgw_port_direction;

typedef enum mgw_port_flags {
    MGW_PORT_REQUIRED = 1u << 0, /* an input that must be fed */
} mgw_port_flags;

/* A port becomes a ghost pad on the node's bin named "sink_<name>" (input)
 * or "src_<name>" (output); an input and an output may share a name. */
typedef struct mgw_port_spec {
    const char *name;
    mgw_port_direction direction;
    mgw_media_kind kind;
    uint32_t flags;  /* mgw_port_flags */
    const char *caps; /* what the port may carry or accepts, as a caps string */
    const char *description;
} mgw_port_spec;

typedef struct mgw_host mgw_host; /* opaque, owned by the core */
typedef struct mgw_node mgw_node;

typedef enum mgw_log_level {
    MGW_LOG_ERROR = 1,
    MGW_LOG_WARNING = 2,
    MGW_LOG_INFO = 3,
    MGW_LOG_DEBUG = 4,
} mgw_log_level;

/* Services the core offers a node. Every function may be called from any
 * thread; `emit`, `fail` and `stopped` are marshalled to the main loop. */
typedef struct mgw_host_api {
    uint32_t size; /* sizeof(mgw_host_api) of the host: check with MGW_HAS_MEMBER */
    /* Publish a control event; the structure's name is the event name
     * ("call.established"). Takes ownership. */
    void (*emit)(mgw_host *host, GstStructure *event);
    void (*log)(mgw_host *host, mgw_log_level level, const char *message);
    /* A runtime failure: the gateway drains and exits 1. */
    void (*fail)(mgw_host *host, const char *reason);
    /* The node finished the drain started by ops->stop. */
    void (*stopped)(mgw_host *host);
    /* Ask another node (named by a MGW_PROP_NODE property) for data, e.g.
     * "ice-servers". Main loop only. Returns a new structure or NULL.
     * The node name "gateway" asks the core itself: "state" gives
     * { stopping: boolean } (a node stopped for a re-arm ends no stream). */
    GstStructure *(*query)(mgw_host *host, const char *node, const char *what);
} mgw_host_api;

typedef struct mgw_node_init {
    uint32_t size; /* sizeof(mgw_node_init) of the host: check with MGW_HAS_MEMBER */
    const char *node_name;
    /* Validated properties, every declared one present when it has a value
     * or default; types as listed in mgw_prop_type. Owned by the core. */
    const GstStructure *properties;
    mgw_host *host;
    const mgw_host_api *api;
} mgw_node_init;

/* Called by the core on the main loop. */
typedef struct mgw_node_ops {
    uint32_t size; /* sizeof(mgw_node_ops) of the module; ops beyond it count as NULL */
    /* The node's bin with its port ghost pads; the core adds it to the pipeline. */
    GstElement *(*element)(mgw_node *node);
    /* Start working (at once, or on the node's start_on event). Return FALSE
     * and set *error (g_malloc'd) to refuse. */
    gboolean (*start)(mgw_node *node, char **error);
    /* Begin a bounded drain (BYE, unregister, EOS...). Call api->stopped
     * when done; the core gives up after its drain timeout. */
    void (*stop)(mgw_node *node);
    /* Every event of every node and of the gateway ("gateway.rearm"). */
    void (*event)(mgw_node *node, const char *source, const GstStructure *event);
    /* Answer another node's query; NULL when unknown. */
    GstStructure *(*query)(mgw_node *node, const char *what);
    void (*destroy)(mgw_node *node);
} mgw_node_ops;

struct mgw_node {
    const mgw_node_ops *ops;
};

typedef struct mgw_plugin_info {
    uint32_t abi_version; /* MGW_ABI_VERSION the module was built with */
    uint32_t info_size;   /* sizeof(mgw_plugin_info) the module was built with */
    const char *name;     /* must match the module file name: mgw-<name>.so */
    const char *version;
    const char *description; /* one line */
    const char *provides;    /* capabilities for MGW_PROP_NODE, "a,b"; may be NULL */
    const char *events;      /* events it emits, "a,b" (documentation); may be NULL */
    const mgw_property_spec *properties;
    size_t n_properties;
    const mgw_port_spec *ports;
    size_t n_ports;
    /* NULL with *error set (g_malloc'd) on failure. */
    mgw_node *(*create)(const mgw_node_init *init, char **error);
    /* --- end of the ABI-1 baseline; appended fields below --- */
    /* sizeof(mgw_property_spec) / sizeof(mgw_port_spec) the module was built
     * with: the host steps through the arrays by these. */
    uint32_t property_size;
    uint32_t port_size;
    /* Call-time values its nodes publish ("room,pin"; an item ending in ".*"
     * allows any suffix: "header.*"); NULL = none. A node publishes them by
     * emitting an event named "values" whose fields are strings; a pipeline
     * refers to them as ${node.value} in the properties of nodes that start
     * on an event, resolved just before their start. */
    const char *values;
} mgw_plugin_info;

#ifdef __cplusplus
}
#endif

#endif /* MEDIAGW_PLUGIN_H */
