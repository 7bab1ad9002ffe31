// Header-only C++ layer over plugin.h: a plugin is a class derived from
// mediagw::Node plus one MEDIAGW_PLUGIN(...) line. No symbol of libmediagw is
// needed; everything reaches the core through mgw_host_api.
#pragma once

#include <mediagw/plugin.h>

#include <cstdarg>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <string>
#include <string_view>
#include <vector>

namespace mediagw {

// Schema helpers, usable in constant initialisers.
namespace prop {
constexpr mgw_property_spec string(const char *name, const char *def, const char *doc, uint32_t flags = 0)
{
    return {name, MGW_PROP_STRING, flags, def, nullptr, doc};
}
constexpr mgw_property_spec integer(const char *name, const char *def, const char *doc, uint32_t flags = 0)
{
    return {name, MGW_PROP_INT, flags, def, nullptr, doc};
}
constexpr mgw_property_spec number(const char *name, const char *def, const char *doc, uint32_t flags = 0)
{
    return {name, MGW_PROP_DOUBLE, flags, def, nullptr, doc};
}
constexpr mgw_property_spec boolean(const char *name, const char *def, const char *doc)
{
    return {name, MGW_PROP_BOOL, 0, def, nullptr, doc};
}
constexpr mgw_property_spec choice(const char *name, const char *choices, const char *def, const char *doc)
{
    return {name, MGW_PROP_ENUM, 0, def, choices, doc};
}
constexpr mgw_property_spec node(const char *name, const char *capability, const char *doc, uint32_t flags = 0)
{
    return {name, MGW_PROP_NODE, flags, nullptr, capability, doc};
}
// `def`: comma-separated default items, or nullptr for none.
constexpr mgw_property_spec list(const char *name, const char *def, const char *doc, uint32_t flags = 0)
{
    return {name, MGW_PROP_STRING_LIST, flags, def, nullptr, doc};
}
constexpr uint32_t required = MGW_PROP_REQUIRED;
constexpr uint32_t secret = MGW_PROP_SECRET;
} // namespace prop

namespace port {
constexpr mgw_port_spec input(const char *name, mgw_media_kind kind, const char *caps, const char *doc,
                              uint32_t flags = 0)
{
    return {name, MGW_PORT_INPUT, kind, flags, caps, doc};
}
constexpr mgw_port_spec output(const char *name, mgw_media_kind kind, const char *caps, const char *doc)
{
    return {name, MGW_PORT_OUTPUT, kind, 0, caps, doc};
}
constexpr uint32_t required = MGW_PORT_REQUIRED;
constexpr mgw_media_kind audio = MGW_MEDIA_AUDIO;
constexpr mgw_media_kind video = MGW_MEDIA_VIDEO;
} // namespace port

inline std::string input_pad_name(std::string_view port) { return "sink_" + std::string(port); }
inline std::string output_pad_name(std::string_view port) { return "src_" + std::string(port); }

// Thrown only inside a plugin (e.g. from a constructor); the trampolines turn
// it (and any other exception) into an error before it could cross into the
// core: an exception unwinding through a C frame is undefined behaviour.
struct Error : std::exception {
    std::string message;
    explicit Error(std::string m) : message(std::move(m)) {}
    const char *what() const noexcept override { return message.c_str(); }
};

namespace detail {
struct Access;
}

class Node {
public:
    explicit Node(const mgw_node_init *init)
        : name_(checked(init)->node_name), props_(init->properties), host_(init->host), api_(init->api)
    {
        bin_ = GST_BIN(gst_object_ref_sink(gst_bin_new(init->node_name)));
    }
    virtual ~Node() { gst_object_unref(bin_); }
    Node(const Node &) = delete;
    Node &operator=(const Node &) = delete;

    // Overridables: the defaults fit a node that only carries media.
    virtual bool start(std::string & /*error*/) { return true; }
    virtual void stop() { stopped(); }
    virtual void on_event(std::string_view /*source*/, const GstStructure * /*event*/) {}
    virtual GstStructure *query(std::string_view /*what*/) { return nullptr; }

    GstBin *bin() const { return bin_; }
    const std::string &name() const { return name_; }

protected:
    // Properties: the core validated them and filled defaults.
    bool has(const char *key) const { return gst_structure_has_field(props_, key); }
    std::string str(const char *key) const
    {
        const char *v = gst_structure_get_string(props_, key);
        return v ? v : "";
    }
    int64_t integer(const char *key) const
    {
        gint64 v = 0;
        gst_structure_get_int64(props_, key, &v);
        return v;
    }
    double number(const char *key) const
    {
        double v = 0;
        gst_structure_get_double(props_, key, &v);
        return v;
    }
    bool boolean(const char *key) const
    {
        gboolean v = FALSE;
        gst_structure_get_boolean(props_, key, &v);
        return v;
    }
    std::vector<std::string> list(const char *key) const
    {
        std::vector<std::string> out;
        const GValue *v = gst_structure_get_value(props_, key);
        if (v && G_VALUE_HOLDS(v, G_TYPE_STRV))
            for (auto p = static_cast<char **>(g_value_get_boxed(v)); p && *p; ++p)
                out.emplace_back(*p);
        return out;
    }

    // Ports: ghost pads without a target until the node knows what flows.
    GstPad *add_input(std::string_view port)
    {
        return add_ghost(input_pad_name(port), GST_PAD_SINK);
    }
    GstPad *add_output(std::string_view port)
    {
        return add_ghost(output_pad_name(port), GST_PAD_SRC);
    }
    GstPad *input(std::string_view port) const
    {
        return gst_element_get_static_pad(GST_ELEMENT(bin_), input_pad_name(port).c_str());
    }
    GstPad *output(std::string_view port) const
    {
        return gst_element_get_static_pad(GST_ELEMENT(bin_), output_pad_name(port).c_str());
    }
    // Is the port linked to another node in this gateway?
    bool linked(GstPad *ghost) const { return ghost && gst_pad_is_linked(ghost); }

    // Point an input port at `target`, a sink pad inside the bin; nullptr
    // parks it on a fakesink so that whatever feeds it never meets
    // not-linked while the node has nowhere to send media (no call yet, a
    // stream the peer declined). The relink makes the core's link re-plan
    // its conversion for the new target. Main loop or any thread but the one
    // streaming into this port.
    // Returns false (after reporting a failure) when the port does not exist
    // or its parking sink cannot be made; never throws, so it may be called
    // from a GStreamer callback.
    bool route_input(std::string_view port, GstPad *target) noexcept
    {
        GstPad *ghost = input(port);
        if (!ghost) {
            fail_c("route_input: no input port", port);
            return false;
        }
        const std::string park_name = "park_" + std::string(port);
        GstElement *parked = gst_bin_get_by_name(bin_, park_name.c_str());
        if (!target && !parked) {
            parked = gst_element_factory_make("fakesink", park_name.c_str());
            if (!parked || !gst_bin_add(bin_, GST_ELEMENT(gst_object_ref(parked)))) {
                if (parked)
                    gst_object_unref(gst_object_ref_sink(parked));
                gst_object_unref(ghost);
                fail_c("route_input: cannot create or add a fakesink to park input", port);
                return false;
            }
            g_object_set(parked, "sync", FALSE, "async", FALSE, nullptr);
            gst_element_sync_state_with_parent(parked);
        }
        GstPad *park_pad = parked ? gst_element_get_static_pad(parked, "sink") : nullptr;
        const bool ok = gst_ghost_pad_set_target(GST_GHOST_PAD(ghost), target ? target : park_pad);
        // The stream already ended (the gateway drains): the fresh fakesink
        // must see that end too, or the drain waits for it.
        if (ok && !target && park_pad && GST_PAD_IS_EOS(ghost))
            gst_pad_send_event(park_pad, gst_event_new_eos());
        if (ok && target && parked) {
            // Leaving it in the bin would hold back the pipeline's end of stream.
            gst_element_call_async(
                parked,
                [](GstElement *sink, gpointer) {
                    gst_element_set_state(sink, GST_STATE_NULL);
                    if (auto parent = GST_BIN(gst_object_get_parent(GST_OBJECT(sink)))) {
                        gst_bin_remove(parent, sink);
                        gst_object_unref(parent);
                    }
                },
                nullptr, nullptr);
        }
        if (park_pad)
            gst_object_unref(park_pad);
        if (parked)
            gst_object_unref(parked);
        gst_object_unref(ghost);
        if (!ok)
            fail_c("route_input: cannot point the ghost pad of input at its target", port);
        return ok;
    }

    // Control plane. A host older than this header may lack a member
    // (api->size says): such calls are dropped, a query answers nullptr.
    void emit(GstStructure *event)
    {
        if (MGW_HAS_MEMBER(mgw_host_api, api_, emit) && api_->emit)
            api_->emit(host_, event);
        else
            gst_structure_free(event);
    }

    // Publish call-time values (string fields, each declared in the plugin's
    // `values`): pipelines use them as ${node.value} in nodes that start
    // later. Publish before emitting the event those nodes start on; the
    // core keeps them for the rest of the call. Takes ownership.
    void publish_values(GstStructure *values)
    {
        gst_structure_set_name(values, "values");
        emit(values);
    }

    void fail(const std::string &reason) { fail_c(reason.c_str(), {}); }
    void stopped()
    {
        if (MGW_HAS_MEMBER(mgw_host_api, api_, stopped) && api_->stopped)
            api_->stopped(host_);
    }
    GstStructure *query_node(const std::string &node, const char *what)
    {
        if (MGW_HAS_MEMBER(mgw_host_api, api_, query) && api_->query)
            return api_->query(host_, node.c_str(), what);
        return nullptr;
    }

    void log(mgw_log_level level, const char *fmt, ...) const __attribute__((format(printf, 3, 4)))
    {
        va_list ap;
        va_start(ap, fmt);
        char *msg = g_strdup_vprintf(fmt, ap);
        va_end(ap);
        if (MGW_HAS_MEMBER(mgw_host_api, api_, log) && api_->log)
            api_->log(host_, level, msg);
        g_free(msg);
    }

private:
    friend struct detail::Access;

    static const mgw_node_init *checked(const mgw_node_init *init)
    {
        if (!MGW_HAS_MEMBER(mgw_node_init, init, api) || !init->api || !init->node_name)
            throw Error("the host's node init structure is incomplete (size " +
                        std::to_string(init ? init->size : 0) + ")");
        return init;
    }

    // `reason` and an optional detail ("reason 'detail'"), without C++
    // allocation that could throw: callable from noexcept paths.
    void fail_c(const char *reason, std::string_view detail) const noexcept
    {
        char *msg = detail.empty() ? g_strdup(reason)
                                   : g_strdup_printf("%s '%.*s'", reason, (int)detail.size(), detail.data());
        if (MGW_HAS_MEMBER(mgw_host_api, api_, fail) && api_->fail)
            api_->fail(host_, msg);
        g_free(msg);
    }

    // Throws Error (a constructor's failure is reported by create()).
    GstPad *add_ghost(const std::string &name, GstPadDirection dir)
    {
        if (GstPad *dup = gst_element_get_static_pad(GST_ELEMENT(bin_), name.c_str())) {
            gst_object_unref(dup);
            throw Error("node '" + name_ + "': pad '" + name + "' added twice");
        }
        GstPad *pad = gst_ghost_pad_new_no_target(name.c_str(), dir);
        if (!pad)
            throw Error("node '" + name_ + "': cannot create ghost pad '" + name + "'");
        gst_pad_set_active(pad, TRUE);
        if (!gst_element_add_pad(GST_ELEMENT(bin_), pad))
            throw Error("node '" + name_ + "': cannot add pad '" + name + "' to its bin");
        return pad;
    }

    std::string name_;
    const GstStructure *props_;
    mgw_host *host_;
    const mgw_host_api *api_;
    GstBin *bin_;
};

namespace detail {
struct Handle {
    mgw_node base;
    Node *node;
};

inline Node *self(mgw_node *n) { return reinterpret_cast<Handle *>(n)->node; }

// What the trampolines need of a Node beyond its public face.
struct Access {
    // An exception escaped `op`: report it as the node's failure.
    static void threw(mgw_node *n, const char *op, const char *what) noexcept
    {
        char *msg = g_strdup_printf("%s threw: %s", op, what);
        self(n)->fail_c(msg, {});
        g_free(msg);
    }
    static void stopped(mgw_node *n) noexcept
    {
        try {
            self(n)->stopped();
        } catch (...) {
        }
    }
};

// Runs `f` for the C entry point `op`; whatever it throws becomes a failure
// reported through the host api and `fallback` is returned. Every ops
// trampoline goes through here: no exception leaves a C entry point.
template <typename R, typename F> R guarded(mgw_node *n, const char *op, R fallback, F &&f) noexcept
{
    try {
        return f();
    } catch (const std::exception &e) {
        Access::threw(n, op, e.what());
    } catch (...) {
        Access::threw(n, op, "an exception that is not a std::exception");
    }
    return fallback;
}

inline GstElement *element(mgw_node *n) noexcept
{
    return guarded<GstElement *>(n, "element", nullptr, [&] { return GST_ELEMENT(self(n)->bin()); });
}

inline gboolean start(mgw_node *n, char **error) noexcept
{
    try {
        std::string err;
        if (self(n)->start(err))
            return TRUE;
        *error = g_strdup(err.empty() ? "start failed" : err.c_str());
    } catch (const std::exception &e) {
        *error = g_strdup_printf("start threw: %s", e.what());
    } catch (...) {
        *error = g_strdup("start threw an exception that is not a std::exception");
    }
    return FALSE;
}

inline void stop(mgw_node *n) noexcept
{
    // A node whose stop threw cannot finish its drain: say it stopped, so
    // that the gateway does not wait for its drain timeout.
    if (!guarded(n, "stop", false, [&] {
            self(n)->stop();
            return true;
        }))
        Access::stopped(n);
}

inline void event(mgw_node *n, const char *source, const GstStructure *ev) noexcept
{
    guarded(n, "event", false, [&] {
        self(n)->on_event(source ? source : "", ev);
        return true;
    });
}

inline GstStructure *query(mgw_node *n, const char *what) noexcept
{
    return guarded<GstStructure *>(n, "query", nullptr, [&] { return self(n)->query(what ? what : ""); });
}

inline void destroy(mgw_node *n) noexcept
{
    auto h = reinterpret_cast<Handle *>(n);
    delete h->node; // destructors are noexcept: one that throws terminates by the language's rules
    delete h;
}

inline const mgw_node_ops ops = {sizeof(mgw_node_ops), element, start, stop, event, query, destroy};

template <typename T> mgw_node *create(const mgw_node_init *init, char **error) noexcept
{
    Handle *h = nullptr;
    try {
        h = new Handle{{&ops}, nullptr};
        h->node = new T(init);
        return &h->base;
    } catch (const std::exception &e) {
        *error = g_strdup(e.what());
    } catch (...) {
        *error = g_strdup("the node's constructor threw an exception that is not a std::exception");
    }
    delete h;
    return nullptr;
}
} // namespace detail

template <typename T, size_t N> constexpr size_t count(const T (&)[N]) { return N; }
constexpr size_t count(std::nullptr_t) { return 0; }

} // namespace mediagw

// The loader reads the descriptor's header from the file before loading
// the module: it must be a constant, never initialised at run time.
#if defined(__cpp_constinit)
#define MGW_CONSTINIT constinit
#else
#define MGW_CONSTINIT
#endif

// One line per plugin module. PROPS and PORTS are arrays of mgw_property_spec
// and mgw_port_spec (see mediagw::prop / mediagw::port), or nullptr.
#define MEDIAGW_PLUGIN(CLASS, NAME, VERSION, DESCRIPTION, PROVIDES, EVENTS, PROPS, PORTS)               \
    MEDIAGW_PLUGIN_VALUES(CLASS, NAME, VERSION, DESCRIPTION, PROVIDES, EVENTS, nullptr, PROPS, PORTS)

// The same for a plugin whose nodes publish call-time values (see
// mgw_plugin_info.values and Node::publish_values).
#define MEDIAGW_PLUGIN_VALUES(CLASS, NAME, VERSION, DESCRIPTION, PROVIDES, EVENTS, VALUES, PROPS, PORTS)      \
    extern "C" MGW_EXPORT MGW_CONSTINIT const mgw_plugin_info MGW_PLUGIN_SYMBOL = {                    \
        MGW_ABI_VERSION,      sizeof(mgw_plugin_info),      NAME, VERSION, DESCRIPTION, PROVIDES, EVENTS, \
        PROPS,                mediagw::count(PROPS),        PORTS, mediagw::count(PORTS),               \
        mediagw::detail::create<CLASS>, sizeof(mgw_property_spec), sizeof(mgw_port_spec), VALUES}

// A plugin without ports or properties passes nullptr for PROPS or PORTS.
