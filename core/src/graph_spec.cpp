#include "graph_spec.hpp"

#include <algorithm>
#include <cmath>
#include <set>
#include <sstream>

namespace mediagw {

namespace {

std::vector<std::string> split(const std::string &s, char sep)
{
    std::vector<std::string> out;
    std::string item;
    std::istringstream in(s);
    while (std::getline(in, item, sep))
        if (!item.empty())
            out.push_back(item);
    return out;
}

const char *kind_name(Value::Kind k)
{
    switch (k) {
    case Value::Kind::String: return "a string";
    case Value::Kind::Integer: return "an integer";
    case Value::Kind::Float: return "a number";
    case Value::Kind::Bool: return "a boolean";
    case Value::Kind::StringList: return "an array of strings";
    default: return "a table or date";
    }
}

const char *type_name(mgw_prop_type t)
{
    switch (t) {
    case MGW_PROP_STRING: return "a string";
    case MGW_PROP_INT: return "an integer";
    case MGW_PROP_DOUBLE: return "a number";
    case MGW_PROP_BOOL: return "a boolean";
    case MGW_PROP_ENUM: return "one of the listed words";
    case MGW_PROP_NODE: return "a node name";
    case MGW_PROP_STRING_LIST: return "an array of strings";
    }
    return "?";
}

bool parse_int(const std::string &s, int64_t &out)
{
    try {
        size_t used = 0;
        out = std::stoll(s, &used, 0);
        return used == s.size();
    } catch (...) {
        return false;
    }
}

bool parse_double(const std::string &s, double &out)
{
    try {
        size_t used = 0;
        out = std::stod(s, &used);
        return used == s.size() && std::isfinite(out);
    } catch (...) {
        return false;
    }
}

// Give `v` the property's type, storing it in `props`. Returns an error
// message (without location) or "".
std::string set_typed(GstStructure *props, const mgw_property_spec &spec, const Value &v)
{
    const std::string shown = (spec.flags & MGW_PROP_SECRET) ? "(secret)" : "'" + v.text + "'";
    const bool text = v.kind == Value::Kind::String;
    switch (spec.type) {
    case MGW_PROP_STRING:
    case MGW_PROP_ENUM:
    case MGW_PROP_NODE:
        if (!text)
            break;
        gst_structure_set(props, spec.name, G_TYPE_STRING, v.text.c_str(), nullptr);
        return "";
    case MGW_PROP_INT: {
        int64_t i = v.integer;
        if (v.kind == Value::Kind::Integer || (text && v.retypable && parse_int(v.text, i))) {
            gst_structure_set(props, spec.name, G_TYPE_INT64, (gint64)i, nullptr);
            return "";
        }
        if (text && v.retypable)
            return "expected an integer, the value expands to " + shown;
        break;
    }
    case MGW_PROP_DOUBLE: {
        double d = v.kind == Value::Kind::Integer ? (double)v.integer : v.number;
        if (v.kind == Value::Kind::Integer || v.kind == Value::Kind::Float ||
            (text && v.retypable && parse_double(v.text, d))) {
            gst_structure_set(props, spec.name, G_TYPE_DOUBLE, d, nullptr);
            return "";
        }
        if (text && v.retypable)
            return "expected a number, the value expands to " + shown;
        break;
    }
    case MGW_PROP_BOOL: {
        bool b = v.boolean;
        if (v.kind == Value::Kind::Bool || (text && v.retypable && (v.text == "true" || v.text == "false"))) {
            if (text)
                b = v.text == "true";
            gst_structure_set(props, spec.name, G_TYPE_BOOLEAN, (gboolean)b, nullptr);
            return "";
        }
        if (text && v.retypable)
            return "expected true or false, the value expands to " + shown;
        break;
    }
    case MGW_PROP_STRING_LIST: {
        std::vector<std::string> items = v.list;
        if (v.kind == Value::Kind::StringList || (text && v.retypable)) {
            if (text)
                items = split(v.text, ',');
            std::vector<const char *> strv;
            for (auto &s : items)
                strv.push_back(s.c_str());
            strv.push_back(nullptr);
            gst_structure_set(props, spec.name, G_TYPE_STRV, strv.data(), nullptr);
            return "";
        }
        break;
    }
    }
    return std::string("expected ") + type_name(spec.type) + ", found " + kind_name(v.kind);
}

struct Resolver {
    const PipelineDesc &desc;
    PluginRegistry &registry;
    Diagnostics &diags;
    GraphSpec graph;
    std::vector<const Plugin *> plugins; // per node, nullptr when unresolved

    std::vector<std::string> node_names() const
    {
        std::vector<std::string> names;
        for (auto &n : desc.nodes)
            names.push_back(n.name);
        return names;
    }

    static std::vector<std::string> port_names(const Plugin *p, mgw_port_direction dir)
    {
        std::vector<std::string> names;
        for (size_t i = 0; i < p->info->n_ports; ++i)
            if (p->info->ports[i].direction == dir)
                names.push_back(p->info->ports[i].name);
        return names;
    }

    void resolve_plugins()
    {
        for (auto &n : desc.nodes) {
            const Plugin *p = nullptr;
            if (!n.plugin.empty()) {
                std::string error;
                p = registry.load(n.plugin, error);
                if (!p) {
                    if (error.rfind("no plugin", 0) == 0)
                        error = "node '" + n.name + "': unknown plugin '" + n.plugin + "'" +
                                did_you_mean(n.plugin, registry.available()) + " (see `mediagw plugins`)";
                    diags.error(n.plugin_where, error);
                }
            }
            plugins.push_back(p);
        }
    }

    void properties(size_t index)
    {
        const NodeDesc &n = desc.nodes[index];
        const Plugin *p = plugins[index];
        NodeSpec spec;
        spec.name = n.name;
        spec.plugin = p;
        spec.start_on = n.start_on;
        spec.properties.reset(gst_structure_new_empty("properties"));
        std::vector<std::string> known;
        for (size_t i = 0; i < p->info->n_properties; ++i)
            known.push_back(p->info->properties[i].name);

        std::set<std::string> given; // written, valid or not: never also "missing"
        for (auto &prop : n.properties) {
            const mgw_property_spec *ps = p->property(prop.name);
            if (!ps) {
                diags.error(prop.key_where, "node '" + n.name + "': unknown property '" + prop.name + "'" +
                                                did_you_mean(prop.name, known) + " (plugin " + p->info->name + ")");
                continue;
            }
            given.insert(prop.name);
            if (prop.value.invalid)
                continue;
            if (prop.value.call_time) {
                if (check_call_time(n, *ps, prop.value))
                    spec.call_time.push_back({ps, prop.value});
                else
                    continue;
            }
            std::string err = set_typed(spec.properties.get(), *ps, prop.value);
            if (!err.empty()) {
                diags.error(prop.value.where, "node '" + n.name + "': property '" + prop.name + "': " + err);
                continue;
            }
            if (!prop.value.call_time)
                check_value(n, *ps, prop.value);
        }
        for (size_t i = 0; i < p->info->n_properties; ++i) {
            const auto &ps = p->info->properties[i];
            if (gst_structure_has_field(spec.properties.get(), ps.name) || given.count(ps.name))
                continue;
            if (ps.default_value) {
                Value def;
                def.text = ps.default_value;
                def.retypable = true;
                std::string err = set_typed(spec.properties.get(), ps, def);
                if (!err.empty())
                    diags.error(n.plugin_where, std::string("plugin '") + p->info->name + "': default of '" +
                                                    ps.name + "' is invalid: " + err);
            } else if (ps.flags & MGW_PROP_REQUIRED) {
                diags.error(n.where, "node '" + n.name + "': missing required property '" + ps.name + "' (" +
                                         (ps.description ? ps.description : "") + ")");
            }
        }
        graph.nodes.push_back(std::move(spec));
    }

    // ${node.value} in a property: a string property of a node that starts
    // on an event, naming another node whose plugin declares the value.
    bool check_call_time(const NodeDesc &n, const mgw_property_spec &ps, const Value &v)
    {
        const std::string where = "node '" + n.name + "': property '" + ps.name + "': ";
        if (ps.type != MGW_PROP_STRING && ps.type != MGW_PROP_STRING_LIST) {
            diags.error(v.where, where + "call-time values (${node.value}) may be used only in string properties, "
                                         "this one takes " + type_name(ps.type));
            return false;
        }
        if (n.start_on.empty()) {
            diags.error(v.where, where + "uses call-time values, but the node starts at once: give it a start_on "
                                         "event after which they are known (e.g. start_on = \"sip/call.incoming\")");
            return false;
        }
        std::vector<CallTimeReference> refs;
        for (const auto &text : v.kind == Value::Kind::StringList ? v.list : std::vector<std::string>{v.text})
            for (auto &r : call_time_references(text))
                refs.push_back(r);
        bool ok = true;
        for (const auto &r : refs) {
            const std::string ref = "${" + r.node + "." + r.value + "}: ";
            const NodeDesc *source = desc.find(r.node);
            if (!source) {
                diags.error(v.where, where + ref + "no node '" + r.node + "'" + did_you_mean(r.node, node_names()));
                ok = false;
                continue;
            }
            if (source == &n) {
                diags.error(v.where, where + ref + "a node cannot use its own values (it publishes them after it "
                                                   "started)");
                ok = false;
                continue;
            }
            const Plugin *sp = plugins[source - desc.nodes.data()];
            if (sp && !sp->publishes(r.value)) {
                auto declared = sp->info->values ? split(sp->info->values, ',') : std::vector<std::string>{};
                diags.error(v.where, where + ref + "node '" + r.node + "' (plugin " + sp->info->name +
                                         ") publishes no value '" + r.value + "'" + did_you_mean(r.value, declared) +
                                         (declared.empty() ? "; it publishes none"
                                                           : std::string("; it publishes ") + sp->info->values));
                ok = false;
            }
        }
        return ok;
    }

    void check_value(const NodeDesc &n, const mgw_property_spec &ps, const Value &v)
    {
        if (ps.type == MGW_PROP_ENUM) {
            auto choices = split(ps.choices, '|');
            if (std::find(choices.begin(), choices.end(), v.text) == choices.end())
                diags.error(v.where, "node '" + n.name + "': property '" + ps.name + "' must be one of " +
                                         ps.choices + ", not '" + v.text + "'" + did_you_mean(v.text, choices));
        } else if (ps.type == MGW_PROP_NODE) {
            const NodeDesc *target = desc.find(v.text);
            if (!target) {
                diags.error(v.where, "node '" + n.name + "': property '" + ps.name + "' names no node '" + v.text +
                                         "'" + did_you_mean(v.text, node_names()));
                return;
            }
            if (target == &n) {
                diags.error(v.where, "node '" + n.name + "': property '" + ps.name + "' refers to the node itself");
                return;
            }
            const Plugin *tp = plugins[target - desc.nodes.data()];
            if (tp && !tp->provides(ps.choices))
                diags.error(v.where, "node '" + n.name + "': property '" + ps.name + "' needs a node that provides '" +
                                         ps.choices + "', but node '" + v.text + "' (plugin " + tp->info->name +
                                         ") does not");
        }
    }

    void inputs(size_t index)
    {
        const NodeDesc &n = desc.nodes[index];
        const Plugin *p = plugins[index];
        std::set<std::string> fed;
        for (auto &in : n.inputs) {
            const mgw_port_spec *to = p->port(in.port, MGW_PORT_INPUT);
            if (!to) {
                auto names = port_names(p, MGW_PORT_INPUT);
                diags.error(in.key_where, "node '" + n.name + "': unknown input port '" + in.port + "'" +
                                              did_you_mean(in.port, names) + " (plugin " + p->info->name +
                                              (names.empty() ? " has no inputs)" : ")"));
                continue;
            }
            fed.insert(in.port);
            auto dot = in.source.find('.');
            if (dot == std::string::npos || dot == 0 || dot + 1 == in.source.size()) {
                diags.error(in.value_where, "node '" + n.name + "': input '" + in.port + "' must name \"node.port\", not \"" +
                                                in.source + "\"");
                continue;
            }
            std::string src_node = in.source.substr(0, dot), src_port = in.source.substr(dot + 1);
            const NodeDesc *src = desc.find(src_node);
            if (!src) {
                diags.error(in.value_where, "node '" + n.name + "': input '" + in.port + "' comes from unknown node '" +
                                                src_node + "'" + did_you_mean(src_node, node_names()));
                continue;
            }
            size_t src_index = src - desc.nodes.data();
            const Plugin *sp = plugins[src_index];
            if (!sp)
                continue; // already reported
            const mgw_port_spec *from = sp->port(src_port, MGW_PORT_OUTPUT);
            if (!from) {
                auto names = port_names(sp, MGW_PORT_OUTPUT);
                diags.error(in.value_where, "node '" + n.name + "': input '" + in.port + "': node '" + src_node +
                                                "' has no output port '" + src_port + "'" +
                                                did_you_mean(src_port, names) +
                                                (names.empty() ? " (it has no outputs)" : ""));
                continue;
            }
            if (from->kind != to->kind) {
                diags.error(in.value_where, "node '" + n.name + "': input '" + in.port + "' takes " +
                                                (to->kind == MGW_MEDIA_AUDIO ? "audio" : "video") + " but '" +
                                                in.source + "' gives " +
                                                (from->kind == MGW_MEDIA_AUDIO ? "audio" : "video"));
                continue;
            }
            graph.links.push_back({src_index, from, index, to});
        }
        for (size_t i = 0; i < p->info->n_ports; ++i) {
            const auto &port = p->info->ports[i];
            if (port.direction == MGW_PORT_INPUT && (port.flags & MGW_PORT_REQUIRED) && !fed.count(port.name))
                diags.error(n.where, "node '" + n.name + "': required input '" + port.name +
                                         "' is not fed (add inputs = { " + port.name + " = \"node.port\" })");
        }
    }

    void start_on(size_t index)
    {
        const NodeDesc &n = desc.nodes[index];
        if (n.start_on.empty())
            return;
        auto slash = n.start_on.find('/');
        if (slash == std::string::npos)
            return; // reported by the loader
        std::string node = n.start_on.substr(0, slash), event = n.start_on.substr(slash + 1);
        if (node == "*" || node == "gateway")
            return;
        const NodeDesc *src = desc.find(node);
        if (!src) {
            diags.error(n.start_on_where, "node '" + n.name + "': start_on names unknown node '" + node + "'" +
                                              did_you_mean(node, node_names()));
            return;
        }
        const Plugin *sp = plugins[src - desc.nodes.data()];
        if (sp && sp->info->events) {
            auto events = split(sp->info->events, ',');
            if (std::find(events.begin(), events.end(), event) == events.end())
                diags.error(n.start_on_where, "node '" + n.name + "': node '" + node + "' (plugin " + sp->info->name +
                                                  ") emits no event '" + event + "'" + did_you_mean(event, events) +
                                                  "; it emits " + sp->info->events);
        }
    }

    std::optional<GraphSpec> run()
    {
        graph.gateway = desc.gateway;
        std::set<std::string> names;
        for (auto &n : desc.nodes)
            if (!names.insert(n.name).second)
                diags.error(n.where, "duplicate node '" + n.name + "'");
        resolve_plugins();
        for (size_t i = 0; i < desc.nodes.size(); ++i) {
            if (!plugins[i])
                continue;
            properties(i);
            inputs(i);
            start_on(i);
        }
        if (!diags.empty())
            return std::nullopt;
        return std::move(graph);
    }
};

} // namespace

std::optional<GraphSpec> resolve_graph(const PipelineDesc &desc, PluginRegistry &registry, Diagnostics &diags)
{
    return Resolver{desc, registry, diags, {}, {}}.run();
}

bool resolve_call_time(NodeSpec &node, const Environment &values, std::string &error)
{
    for (auto &p : node.call_time) {
        Value v = p.value;
        std::string err;
        auto resolve = [&](std::string &text) {
            auto out = interpolate(text, values, err, nullptr, Stage::CallTime);
            if (out)
                text = *out;
            return out.has_value();
        };
        bool ok = v.kind == Value::Kind::StringList ? std::all_of(v.list.begin(), v.list.end(), resolve)
                                                     : resolve(v.text);
        if (ok)
            err = set_typed(node.properties.get(), *p.spec, v);
        if (!ok || !err.empty()) {
            error = "property '" + std::string(p.spec->name) + "' (" + p.value.where.file + ":" +
                    std::to_string(p.value.where.line) + ":" + std::to_string(p.value.where.column) + "): " + err;
            return false;
        }
    }
    return true;
}

std::string printable_value(const mgw_property_spec &spec, const GValue *value)
{
    if (spec.flags & MGW_PROP_SECRET)
        return "(secret)";
    if (G_VALUE_HOLDS(value, G_TYPE_STRV)) {
        std::string out;
        for (auto p = static_cast<char **>(g_value_get_boxed(value)); p && *p; ++p)
            out += std::string(out.empty() ? "" : ",") + *p;
        return "[" + out + "]";
    }
    gchar *s = gst_value_serialize(value);
    std::string out = s ? s : "?";
    g_free(s);
    return out;
}

} // namespace mediagw
