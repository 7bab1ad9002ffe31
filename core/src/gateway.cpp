#include "gateway.hpp"

#include "abi.hpp"
#include "log.hpp"
#include "stop_watchdog.hpp"

#include <glib-unix.h>

#include <algorithm>
#include <map>

struct mgw_host {
    mediagw::Gateway *gateway;
    size_t index;
};

namespace mediagw {

struct Gateway::NodeRuntime {
    NodeSpec *spec = nullptr;
    mgw_node *node = nullptr;
    // The node's ops in this host's layout: ops beyond the module's
    // ops->size are NULL (abi.hpp).
    mgw_node_ops ops{};
    mgw_host host{};
    NodeState state = NodeState::Waiting;
    std::string category; // "plugin/node"
};

bool event_matches(const std::string &pattern, const std::string &source, const std::string &event)
{
    auto slash = pattern.find('/');
    if (slash == std::string::npos)
        return false;
    std::string node = pattern.substr(0, slash);
    return (node == "*" || node == source) && pattern.compare(slash + 1, std::string::npos, event) == 0;
}

namespace {

// After drain_timeout, how long a stop may still take before the watchdog
// ends the process: freeing the pipeline, the nodes' own goodbyes.
constexpr std::chrono::milliseconds kStuckStopGrace{10000};

// The host api as plugins call it: any argument may be wrong (a level out
// of range, NULL strings); the Gateway's members get checked values.
void api_emit(mgw_host *h, GstStructure *event)
{
    if (event)
        h->gateway->host_emit(h->index, event);
}
void api_log(mgw_host *h, mgw_log_level level, const char *message)
{
    h->gateway->host_log(h->index, clamp_log_level(level), message ? message : "(null)");
}
void api_fail(mgw_host *h, const char *reason)
{
    h->gateway->host_fail(h->index, reason ? reason : "failed (no reason given)");
}
void api_stopped(mgw_host *h) { h->gateway->host_stopped(h->index); }
GstStructure *api_query(mgw_host *h, const char *node, const char *what)
{
    return node && what ? h->gateway->host_query(h->index, node, what) : nullptr;
}

const mgw_host_api host_api = {sizeof(mgw_host_api), api_emit, api_log, api_fail, api_stopped, api_query};

std::string structure_text(const GstStructure *s)
{
    gchar *t = gst_structure_to_string(s);
    std::string out = t;
    g_free(t);
    return out;
}

// A loop bridge (see build()): a sink pad and a source pad that belong to no
// element; what reaches one leaves by the other, in the calling thread.
GstPad *partner(GstPad *pad) { return GST_PAD(gst_pad_get_element_private(pad)); }

GstFlowReturn bridge_chain(GstPad *pad, GstObject *, GstBuffer *buffer)
{
    return gst_pad_push(partner(pad), buffer);
}

gboolean bridge_event(GstPad *pad, GstObject *, GstEvent *event) { return gst_pad_push_event(partner(pad), event); }

gboolean bridge_query(GstPad *pad, GstObject *, GstQuery *query) { return gst_pad_peer_query(partner(pad), query); }

// "element.pad" for messages.
std::string pad_name(GstPad *pad)
{
    gchar *n = g_strdup_printf("%s.%s", GST_DEBUG_PAD_NAME(pad));
    std::string out = n;
    g_free(n);
    return out;
}

// An element the core needs, or an error naming it and what it was for.
GstElement *make_element(const char *factory, const std::string &purpose, std::string &error)
{
    GstElement *e = gst_element_factory_make(factory, nullptr);
    if (!e)
        error = "cannot create GStreamer element '" + std::string(factory) + "' (" + purpose +
                "): is its plugin installed?";
    return e;
}

// Add `e` to `bin`; on failure `e` is released (when it was floating) and
// the error names it.
bool add_element(GstBin *bin, GstElement *e, const std::string &purpose, std::string &error)
{
    if (gst_bin_add(bin, e))
        return true;
    gchar *name = gst_element_get_name(e);
    error = "cannot add element '" + std::string(name) + "' (" + purpose + ") to the pipeline";
    g_free(name);
    gst_object_unref(gst_object_ref_sink(e));
    return false;
}

bool link_pads(GstPad *src, GstPad *sink, GstPadLinkCheck check, const std::string &link, std::string &error)
{
    GstPadLinkReturn r = gst_pad_link_full(src, sink, check);
    if (r == GST_PAD_LINK_OK)
        return true;
    error = "cannot link " + link + ": " + pad_name(src) + " -> " + pad_name(sink) + ": " + gst_pad_link_get_name(r);
    return false;
}

} // namespace

Gateway::Gateway(GraphSpec spec) : spec_(std::move(spec)) {}

Gateway::~Gateway()
{
    // Armed by stop(); freeing the pipeline below is still part of the stop.
    struct Disarm {
        const void *owner;
        ~Disarm() { disarm_stop_watchdog(owner); }
    } disarm{this};
    // Let queued cross-thread callbacks run before `this` goes away.
    for (int i = 0; pending_ > 0 && i < 1000; ++i)
        g_main_context_iteration(nullptr, FALSE);
    if (pipeline_)
        gst_element_set_state(pipeline_, GST_STATE_NULL);
    for (GstPad *p : bridge_pads_) {
        gst_pad_set_active(p, FALSE);
        gst_object_unref(p); // unlinks it
    }
    for (auto t : {bus_watch_, signal_int_, signal_term_, idle_timer_, call_timer_, run_timer_, drain_timer_})
        if (t)
            g_source_remove(t);
    links_.clear();
    for (auto &n : nodes_)
        if (n->node && n->ops.destroy)
            n->ops.destroy(n->node);
    if (pipeline_)
        gst_object_unref(pipeline_);
    if (loop_)
        g_main_loop_unref(loop_);
}

template <typename F> void Gateway::on_main_loop(F &&f)
{
    ++pending_;
    auto *fn = new std::function<void()>(std::forward<F>(f));
    g_idle_add_full(
        G_PRIORITY_DEFAULT,
        [](gpointer data) -> gboolean {
            (*static_cast<std::function<void()> *>(data))();
            return G_SOURCE_REMOVE;
        },
        fn,
        [](gpointer data) { delete static_cast<std::function<void()> *>(data); });
}

bool Gateway::build(std::string &error)
{
    pipeline_ = GST_ELEMENT(gst_object_ref_sink(gst_pipeline_new(spec_.gateway.name.c_str())));
    for (size_t i = 0; i < spec_.nodes.size(); ++i) {
        auto rt = std::make_unique<NodeRuntime>();
        NodeSpec &ns = spec_.nodes[i];
        rt->spec = &ns;
        rt->host = {this, i};
        rt->category = category(std::string(ns.plugin->info->name) + "/" + ns.name);
        for (size_t p = 0; p < ns.plugin->info->n_properties; ++p) {
            const auto &ps = ns.plugin->info->properties[p];
            if (const GValue *v = gst_structure_get_value(ns.properties.get(), ps.name))
                log(MGW_LOG_DEBUG, rt->category, std::string("property ") + ps.name + " = " + printable_value(ps, v));
        }
        mgw_node_init init{sizeof(mgw_node_init), ns.name.c_str(), ns.properties.get(), &rt->host, &host_api};
        // In nodes_ before create(): a constructor may already log or emit.
        NodeRuntime &node = *rt;
        nodes_.push_back(std::move(rt));
        const std::string who = "node '" + ns.name + "' (plugin " + ns.plugin->info->name + ")";
        char *err = nullptr;
        node.node = ns.plugin->info->create(&init, &err);
        if (!node.node) {
            error = who + ": " + (err ? err : "creation failed");
            g_free(err);
            return false;
        }
        g_free(err); // a plugin may set it and succeed all the same
        if (!node.node->ops) {
            error = who + ": the node has no ops";
            return false;
        }
        node.ops = abi::read_prefix<mgw_node_ops>(node.node->ops, node.node->ops->size);
        if (!node.ops.element) {
            error = who + ": its ops lack element() (ops size " + std::to_string(node.node->ops->size) + ")";
            return false;
        }
        if (!node.ops.destroy)
            log(MGW_LOG_WARNING, node.category, "its ops lack destroy(): the node is never freed");
        GstElement *bin = node.ops.element(node.node);
        if (!bin || !GST_IS_BIN(bin)) {
            error = who + ": the plugin gave no bin to add";
            return false;
        }
        if (!gst_bin_add(GST_BIN(pipeline_), bin)) {
            error = who + ": its bin cannot be added to the pipeline (it has a parent already, or its name '" +
                    ns.name + "' is taken)";
            return false;
        }
    }

    auto pad_of = [&](size_t node, const mgw_port_spec *port, std::string &why) -> GstPad * {
        std::string name = (port->direction == MGW_PORT_INPUT ? "sink_" : "src_") + std::string(port->name);
        GstPad *pad = gst_element_get_static_pad(element_of(node), name.c_str());
        if (!pad)
            why = "node '" + spec_.nodes[node].name + "' (plugin " + spec_.nodes[node].plugin->info->name +
                  ") has no pad '" + name + "' for its port '" + port->name + "'";
        return pad;
    };
    auto add_adapter = [&](const std::string &name, mgw_media_kind kind) -> LinkAdapter * {
        auto adapter = LinkAdapter::create(name, kind, [](bool is_error, const std::string &m) {
            log(is_error ? MGW_LOG_ERROR : MGW_LOG_INFO, "link", m);
        }, error);
        if (!adapter || !add_element(GST_BIN(pipeline_), adapter->element(), "link " + name, error))
            return nullptr;
        links_.push_back(std::move(adapter));
        return links_.back().get();
    };

    // An output feeding several inputs goes through a tee, one queue per
    // branch so that a slow consumer does not stall the others.
    std::map<std::pair<size_t, const mgw_port_spec *>, GstElement *> tees;
    for (auto &l : spec_.links) {
        size_t fan_out = std::count_if(spec_.links.begin(), spec_.links.end(), [&](const LinkSpec &o) {
            return o.from == l.from && o.from_port == l.from_port;
        });
        std::string name = spec_.nodes[l.from].name + "." + l.from_port->name + "->" + spec_.nodes[l.to].name + "." +
                           l.to_port->name;
        GstPad *out = pad_of(l.from, l.from_port, error);
        GstPad *in = out ? pad_of(l.to, l.to_port, error) : nullptr;
        // Releases what this link holds; for the early returns below.
        auto give_up = [&] {
            for (GstPad *p : {out, in})
                if (p)
                    gst_object_unref(p);
            return false;
        };
        if (!out || !in)
            return give_up();
        if (fan_out > 1) {
            GstElement *&tee = tees[{l.from, l.from_port}];
            const std::string purpose = "fan-out of " + spec_.nodes[l.from].name + "." + l.from_port->name;
            if (!tee) {
                GstElement *made = make_element("tee", purpose, error);
                if (!made || !add_element(GST_BIN(pipeline_), made, purpose, error))
                    return give_up();
                tee = made;
                g_object_set(tee, "allow-not-linked", TRUE, nullptr);
                GstPad *tee_in = gst_element_get_static_pad(tee, "sink");
                const bool ok = link_pads(out, tee_in, GST_PAD_LINK_CHECK_HIERARCHY, purpose, error);
                gst_object_unref(tee_in);
                if (!ok)
                    return give_up();
            }
            GstElement *queue = make_element("queue", "branch of link " + name, error);
            if (!queue || !add_element(GST_BIN(pipeline_), queue, "branch of link " + name, error))
                return give_up();
            g_object_set(queue, "max-size-buffers", 0, "max-size-bytes", 0, "max-size-time", (guint64)GST_SECOND,
                         "leaky", 2 /* downstream: drop old data, never block the source */, nullptr);
            if (!gst_element_link_pads_full(tee, "src_%u", queue, "sink", GST_PAD_LINK_CHECK_NOTHING)) {
                error = "cannot link " + name + ": no tee branch for it";
                return give_up();
            }
            gst_object_unref(out);
            out = gst_element_get_static_pad(queue, "src");
        }
        LinkAdapter *a = add_adapter(name, l.from_port->kind);
        if (!a)
            return give_up();
        GstPad *adapted = GST_PAD(gst_object_ref(a->src()));
        const bool bridged = closes_cycle(l);
        bool ok = true;
        if (bridged) {
            // A link that closes a loop (an echo: a node feeding itself)
            // crosses a bridge of two pads of no element: the element graph
            // stays acyclic (state changes keep their sink-first order; a
            // direct link makes GstBin print "loop detected" warnings) and
            // media, events and queries cross in the calling thread.
            // proxysink/proxysrc did the same with a queue thread that cost
            // 0.16 % of a core per G.711 echo call (scripts/bench sip).
            GstPad *bridge_in = GST_PAD(gst_object_ref_sink(gst_pad_new("loop_sink", GST_PAD_SINK)));
            GstPad *bridge_out = GST_PAD(gst_object_ref_sink(gst_pad_new("loop_src", GST_PAD_SRC)));
            gst_pad_set_element_private(bridge_in, bridge_out);
            gst_pad_set_element_private(bridge_out, bridge_in);
            gst_pad_set_chain_function(bridge_in, bridge_chain);
            for (GstPad *p : {bridge_in, bridge_out}) {
                gst_pad_set_event_function(p, bridge_event);
                gst_pad_set_query_function(p, bridge_query);
                gst_pad_set_active(p, TRUE);
                bridge_pads_.push_back(p);
            }
            ok = link_pads(adapted, bridge_in, GST_PAD_LINK_CHECK_NOTHING, name + " (loop bridge)", error);
            gst_object_unref(adapted);
            adapted = GST_PAD(gst_object_ref(bridge_out));
        }
        // Caps are settled later, when they are known (the adapter converts).
        ok = ok && link_pads(out, a->sink(), GST_PAD_LINK_CHECK_HIERARCHY, name, error) &&
             link_pads(adapted, in, bridged ? GST_PAD_LINK_CHECK_NOTHING : GST_PAD_LINK_CHECK_HIERARCHY, name, error);
        gst_object_unref(adapted);
        give_up();
        if (!ok)
            return false;
    }
    // Outputs nobody listens to end in a fakesink, so a plugin never meets
    // not-linked and the adapter's idle drain still completes the stream.
    for (size_t i = 0; i < nodes_.size(); ++i) {
        const auto *info = spec_.nodes[i].plugin->info;
        for (size_t p = 0; p < info->n_ports; ++p) {
            const auto &port = info->ports[p];
            if (port.direction != MGW_PORT_OUTPUT)
                continue;
            GstPad *out = pad_of(i, &port, error);
            if (!out)
                return false;
            bool ok = true;
            if (!gst_pad_is_linked(out)) {
                const std::string name = spec_.nodes[i].name + "." + port.name + "->(unused)";
                LinkAdapter *a = add_adapter(name, port.kind);
                GstElement *sink = a ? make_element("fakesink", "end of " + name, error) : nullptr;
                ok = sink && add_element(GST_BIN(pipeline_), sink, "end of " + name, error);
                if (ok) {
                    g_object_set(sink, "sync", FALSE, "async", FALSE, nullptr);
                    GstPad *sink_pad = gst_element_get_static_pad(sink, "sink");
                    ok = link_pads(out, a->sink(), GST_PAD_LINK_CHECK_HIERARCHY, name, error) &&
                         link_pads(a->src(), sink_pad, GST_PAD_LINK_CHECK_HIERARCHY, name, error);
                    gst_object_unref(sink_pad);
                }
            }
            gst_object_unref(out);
            if (!ok)
                return false;
        }
    }
    return true;
}

GstElement *Gateway::element_of(size_t node) const { return nodes_[node]->ops.element(nodes_[node]->node); }

// Does some path of links lead from the link's target back to its source?
bool Gateway::closes_cycle(const LinkSpec &link) const
{
    std::vector<bool> seen(spec_.nodes.size(), false);
    std::vector<size_t> todo = {link.to};
    while (!todo.empty()) {
        size_t n = todo.back();
        todo.pop_back();
        if (n == link.from)
            return true;
        if (seen[n])
            continue;
        seen[n] = true;
        for (auto &l : spec_.links)
            if (l.from == n)
                todo.push_back(l.to);
    }
    return false;
}

int Gateway::run()
{
    loop_ = g_main_loop_new(nullptr, FALSE);
    auto on_signal = [](gpointer data) -> gboolean {
        static_cast<Gateway *>(data)->signal_received();
        return G_SOURCE_CONTINUE;
    };
    signal_int_ = g_unix_signal_add(SIGINT, on_signal, this);
    signal_term_ = g_unix_signal_add(SIGTERM, on_signal, this);
    if (start())
        g_main_loop_run(loop_);
    return exit_code_;
}

void Gateway::signal_received()
{
    if (finished_)
        return;
    if (stopping_) {
        log(MGW_LOG_WARNING, category("core"), "second signal: stopping without waiting for the drain");
        finish();
    } else {
        stop("signal received", 0);
    }
}

bool Gateway::start()
{
    GstBus *bus = gst_element_get_bus(pipeline_);
    bus_watch_ = gst_bus_add_watch(bus, on_bus, this);
    gst_object_unref(bus);
    if (gst_element_set_state(pipeline_, GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE) {
        log(MGW_LOG_ERROR, category("core"), "the pipeline refused to start (see the errors above)");
        exit_code_ = 1;
        finish();
        // Deliver the bus errors that explain why.
        while (g_main_context_iteration(nullptr, FALSE))
            ;
        return false;
    }
    end_unfed_inputs();
    for (auto &n : nodes_)
        if (n->spec->start_on.empty() && !stopping_)
            start_node(*n);
    if (!stopping_) {
        arm_timer(idle_timer_, spec_.gateway.idle_timeout, "no call within gateway.idle_timeout");
        arm_timer(run_timer_, spec_.gateway.max_duration, "gateway.max_duration reached");
        log(MGW_LOG_INFO, category("core"), "gateway '" + spec_.gateway.name + "' ready");
        if (on_ready)
            on_ready();
    }
    return !finished_;
}

std::string Gateway::category(const std::string &what) const { return label_.empty() ? what : label_ + " " + what; }

// An input nobody feeds is an empty stream: end it at once, so that the
// pipeline's end of stream never waits for a sink that gets nothing.
void Gateway::end_unfed_inputs()
{
    for (size_t i = 0; i < nodes_.size(); ++i) {
        const auto *info = spec_.nodes[i].plugin->info;
        GstElement *bin = element_of(i);
        for (size_t p = 0; p < info->n_ports; ++p) {
            if (info->ports[p].direction != MGW_PORT_INPUT)
                continue;
            GstPad *pad = gst_element_get_static_pad(bin, (std::string("sink_") + info->ports[p].name).c_str());
            if (pad && !gst_pad_is_linked(pad)) {
                std::string stream = spec_.nodes[i].name + "/" + info->ports[p].name + "/unfed";
                GstSegment segment;
                gst_segment_init(&segment, GST_FORMAT_TIME);
                gst_pad_send_event(pad, gst_event_new_stream_start(stream.c_str()));
                gst_pad_send_event(pad, gst_event_new_segment(&segment));
                gst_pad_send_event(pad, gst_event_new_eos());
            }
            if (pad)
                gst_object_unref(pad);
        }
    }
}

void Gateway::start_node(NodeRuntime &n)
{
    char *err = nullptr;
    std::string call_time_error;
    if (!resolve_call_time(*n.spec, call_values(), call_time_error)) {
        std::string why = "node '" + n.spec->name + "' cannot start: " + call_time_error;
        log(MGW_LOG_ERROR, n.category, why);
        stop(why, 1);
        return;
    }
    n.state = NodeState::Running;
    if (n.ops.start && !n.ops.start(n.node, &err)) {
        n.state = NodeState::Idle;
        std::string why = "node '" + n.spec->name + "' failed to start: " + (err ? err : "?");
        g_free(err);
        log(MGW_LOG_ERROR, n.category, why);
        stop(why, 1);
        return;
    }
    log(MGW_LOG_DEBUG, n.category, "started");
}

void Gateway::stop_node(NodeRuntime &n)
{
    if (n.state != NodeState::Running)
        return;
    n.state = NodeState::Stopping;
    if (n.ops.stop)
        n.ops.stop(n.node);
    else // nothing to drain
        host_stopped(n.host.index);
}

void Gateway::host_emit(size_t node, GstStructure *event)
{
    on_main_loop([this, node, event] {
        --pending_;
        deliver(node, event);
    });
}

void Gateway::host_log(size_t node, mgw_log_level level, const char *message)
{
    log(level, nodes_[node]->category, message);
}

void Gateway::host_fail(size_t node, const char *reason)
{
    std::string why = "node '" + spec_.nodes[node].name + "': " + reason;
    on_main_loop([this, why] {
        --pending_;
        log(MGW_LOG_ERROR, category("core"), why);
        stop(why, 1);
    });
}

void Gateway::host_stopped(size_t node)
{
    on_main_loop([this, node] {
        --pending_;
        node_stopped(node);
    });
}

GstStructure *Gateway::host_query(size_t, const char *target, const char *what)
{
    if (g_str_equal(target, "gateway"))
        return g_str_equal(what, "state")
                   ? gst_structure_new("gateway.state", "stopping", G_TYPE_BOOLEAN, (gboolean)stopping_, nullptr)
                   : nullptr;
    for (auto &n : nodes_)
        if (n->spec->name == target)
            return n->ops.query ? n->ops.query(n->node, what) : nullptr;
    return nullptr;
}

Environment Gateway::call_values() const
{
    return [this](const std::string &name) -> std::optional<std::string> {
        auto it = values_.find(name);
        if (it == values_.end())
            return std::nullopt;
        return it->second;
    };
}

// A node's "values" event: keep its declared string fields as
// ${node.field} for the rest of the call. Only the names are logged: a
// value may be a PIN.
void Gateway::keep_values(size_t source, const GstStructure *values)
{
    const NodeSpec &node = spec_.nodes[source];
    std::string kept;
    for (int i = 0; i < gst_structure_n_fields(values); ++i) {
        const char *field = gst_structure_nth_field_name(values, i);
        const GValue *v = gst_structure_get_value(values, field);
        if (!G_VALUE_HOLDS_STRING(v) || !node.plugin->publishes(field)) {
            log(MGW_LOG_WARNING, nodes_[source]->category,
                std::string("published value '") + field + "' ignored: " +
                    (G_VALUE_HOLDS_STRING(v) ? "its plugin does not declare it" : "not a string"));
            continue;
        }
        const char *text = g_value_get_string(v);
        values_[node.name + "." + field] = text ? text : "";
        kept += std::string(kept.empty() ? "" : ", ") + field;
    }
    log(MGW_LOG_INFO, category("event"), node.name + "/values: " + kept);
}

void Gateway::deliver(size_t source, GstStructure *event)
{
    const std::string name = gst_structure_get_name(event);
    const std::string &from = spec_.nodes[source].name;
    if (name == "values")
        keep_values(source, event);
    else if (name == "dtmf" && log_level() < MGW_LOG_DEBUG) // digits may be a PIN: shown with -v only
        log(MGW_LOG_INFO, category("event"), from + "/dtmf (the digit is logged at debug level)");
    else
        log(MGW_LOG_INFO, category("event"), from + "/" + structure_text(event));
    if (on_event)
        on_event(from, event);
    for (size_t i = 0; i < nodes_.size(); ++i)
        if (i != source && nodes_[i]->state != NodeState::Idle && nodes_[i]->ops.event)
            nodes_[i]->ops.event(nodes_[i]->node, from.c_str(), event);
    if (!stopping_) {
        if (event_matches(spec_.gateway.call_start, from, name))
            call_started();
        for (auto &n : nodes_)
            if (n->state == NodeState::Waiting && !n->spec->start_on.empty() &&
                event_matches(n->spec->start_on, from, name))
                start_node(*n);
        if (event_matches(spec_.gateway.call_end, from, name))
            call_ended();
    }
    gst_structure_free(event);
}

void Gateway::inject(const std::string &source, GstStructure *event)
{
    log(MGW_LOG_INFO, category("event"), source + "/" + structure_text(event));
    for (auto &n : nodes_)
        if (n->state == NodeState::Running && n->ops.event)
            n->ops.event(n->node, source.c_str(), event);
    gst_structure_free(event);
}

void Gateway::call_started()
{
    in_call_ = true;
    disarm_timer(idle_timer_);
    arm_timer(call_timer_, spec_.gateway.max_call_duration, "gateway.max_call_duration reached");
}

void Gateway::call_ended()
{
    if (!in_call_)
        return;
    in_call_ = false;
    disarm_timer(call_timer_);
    if (spec_.gateway.after_call == AfterCall::Exit) {
        stop("the call ended (after_call = \"exit\")", 0);
        return;
    }
    log(MGW_LOG_INFO, category("core"), "the call ended: re-arming (after_call = \"rearm\")");
    values_.clear();
    for (auto &n : nodes_)
        if (!n->spec->start_on.empty())
            stop_node(*n);
    GstStructure *rearm = gst_structure_new_empty("gateway.rearm");
    for (auto &n : nodes_)
        if (n->state != NodeState::Idle && n->ops.event)
            n->ops.event(n->node, "gateway", rearm);
    gst_structure_free(rearm);
    arm_timer(idle_timer_, spec_.gateway.idle_timeout, "no call within gateway.idle_timeout");
}

void Gateway::node_stopped(size_t index)
{
    NodeRuntime &n = *nodes_[index];
    // A node stopped for a re-arm waits for its start_on event again.
    n.state = (!stopping_ && !n.spec->start_on.empty()) ? NodeState::Waiting : NodeState::Idle;
    log(MGW_LOG_DEBUG, n.category, "stopped");
    if (stopping_)
        check_drained();
}

void Gateway::stop(const std::string &reason, int exit_code)
{
    exit_code_ = std::max(exit_code_, exit_code);
    if (stopping_)
        return;
    stopping_ = true;
    stop_reason_ = reason;
    log(MGW_LOG_INFO, category("core"), "stopping: " + reason);
    // The drain timer needs a main loop that runs; this bound does not.
    arm_stop_watchdog(this, std::chrono::milliseconds(spec_.gateway.drain_timeout) + kStuckStopGrace,
                      "gateway '" + (label_.empty() ? spec_.gateway.name : label_) + "'");
    for (guint *t : {&idle_timer_, &call_timer_, &run_timer_})
        disarm_timer(*t);
    drain_timer_ = g_timeout_add(
        (guint)spec_.gateway.drain_timeout,
        [](gpointer data) -> gboolean {
            auto self = static_cast<Gateway *>(data);
            self->drain_timer_ = 0;
            log(MGW_LOG_WARNING, self->category("core"),
                "drain timeout: stopping now; no end of stream in " + self->sinks_not_eos());
            self->finish();
            return G_SOURCE_REMOVE;
        },
        this);
    for (auto &n : nodes_) {
        if (n->state == NodeState::Waiting)
            not_running_at_stop_.push_back(n.get());
        stop_node(*n);
    }
    check_drained();
}

// A node waiting for its start_on event (never started, or re-armed) streams
// nothing, so nothing would end what it feeds: end its outputs here.
void Gateway::end_outputs(NodeRuntime &n)
{
    GstIterator *it = gst_element_iterate_src_pads(element_of(n.host.index));
    GValue item = G_VALUE_INIT;
    while (gst_iterator_next(it, &item) == GST_ITERATOR_OK) {
        gst_pad_push_event(GST_PAD(g_value_get_object(&item)), gst_event_new_eos());
        g_value_reset(&item);
    }
    g_value_unset(&item);
    gst_iterator_free(it);
}

// Second half of the drain: once every node said goodbye, end the streams so
// that sinks complete their files, then wait for EOS (bounded by the timer).
void Gateway::check_drained()
{
    for (auto &n : nodes_)
        if (n->state == NodeState::Stopping)
            return;
    if (eos_) {
        finish();
        return;
    }
    if (eos_sent_)
        return;
    eos_sent_ = true;
    gst_element_send_event(pipeline_, gst_event_new_eos());
    for (NodeRuntime *n : not_running_at_stop_)
        end_outputs(*n);
    for (auto &l : links_)
        l->drain_if_idle();
}

// For the drain-timeout warning: which sinks never saw EOS (path names).
std::string Gateway::sinks_not_eos() const
{
    std::string out;
    GstIterator *it = gst_bin_iterate_recurse(GST_BIN(pipeline_));
    GValue item = G_VALUE_INIT;
    while (gst_iterator_next(it, &item) == GST_ITERATOR_OK) {
        auto *e = GST_ELEMENT(g_value_get_object(&item));
        if (GST_OBJECT_FLAG_IS_SET(e, GST_ELEMENT_FLAG_SINK) && !GST_IS_BIN(e)) {
            GstPad *pad = gst_element_get_static_pad(e, "sink");
            if (pad && !GST_PAD_IS_EOS(pad)) {
                gchar *path = gst_object_get_path_string(GST_OBJECT(e));
                out += std::string(out.empty() ? "" : ", ") + path;
                g_free(path);
            }
            if (pad)
                gst_object_unref(pad);
        }
        g_value_reset(&item);
    }
    g_value_unset(&item);
    gst_iterator_free(it);
    return out.empty() ? "(every sink has it)" : out;
}

void Gateway::finish()
{
    if (finished_)
        return;
    finished_ = true;
    disarm_timer(drain_timer_);
    gst_element_set_state(pipeline_, GST_STATE_NULL);
    if (loop_)
        g_main_loop_quit(loop_);
    if (on_finished)
        on_finished();
}

void Gateway::arm_timer(guint &id, int64_t seconds, const char *why)
{
    disarm_timer(id);
    if (seconds <= 0)
        return;
    struct Ctx {
        Gateway *self;
        guint *id;
        std::string why;
    };
    id = g_timeout_add_full(
        G_PRIORITY_DEFAULT, (guint)(seconds * 1000),
        [](gpointer data) -> gboolean {
            auto c = static_cast<Ctx *>(data);
            *c->id = 0;
            c->self->stop(c->why, 0);
            return G_SOURCE_REMOVE;
        },
        new Ctx{this, &id, why}, [](gpointer data) { delete static_cast<Ctx *>(data); });
}

void Gateway::disarm_timer(guint &id)
{
    if (id)
        g_source_remove(id);
    id = 0;
}

gboolean Gateway::on_bus(GstBus *, GstMessage *msg, gpointer data)
{
    auto self = static_cast<Gateway *>(data);
    switch (GST_MESSAGE_TYPE(msg)) {
    case GST_MESSAGE_EOS:
        self->eos_ = true;
        if (self->stopping_)
            self->check_drained();
        else
            self->stop("end of stream", 0);
        break;
    case GST_MESSAGE_ERROR:
    case GST_MESSAGE_WARNING: {
        GError *err = nullptr;
        gchar *debug = nullptr;
        bool is_error = GST_MESSAGE_TYPE(msg) == GST_MESSAGE_ERROR;
        if (is_error)
            gst_message_parse_error(msg, &err, &debug);
        else
            gst_message_parse_warning(msg, &err, &debug);
        gchar *path = gst_object_get_path_string(GST_MESSAGE_SRC(msg));
        std::string text = std::string(path) + ": " + err->message;
        log(is_error ? MGW_LOG_ERROR : MGW_LOG_WARNING, self->category("gst"), text);
        if (debug)
            log(MGW_LOG_DEBUG, self->category("gst"), debug);
        g_free(path);
        g_free(debug);
        g_error_free(err);
        if (is_error)
            self->stop("media error: " + text, 1);
        break;
    }
    case GST_MESSAGE_LATENCY: // a live branch appeared or changed (a call began, a sink was added)
        gst_bin_recalculate_latency(GST_BIN(self->pipeline_));
        break;
    default:
        break;
    }
    return G_SOURCE_CONTINUE;
}

} // namespace mediagw
