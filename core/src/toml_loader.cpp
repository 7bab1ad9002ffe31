// TOML -> PipelineDesc. Layout:
//   [gateway]         name, after_call, call_start, call_end, idle_timeout,
//                     max_duration, max_call_duration, drain_timeout
//   [node.NAME]       plugin, start_on, inputs = { port = "node.port" },
//                     and the plugin's properties
#include "pipeline_desc.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <tuple>

#include <toml++/toml.h>

namespace mediagw {

NodeDesc *PipelineDesc::find(const std::string &node)
{
    for (auto &n : nodes)
        if (n.name == node)
            return &n;
    return nullptr;
}

const NodeDesc *PipelineDesc::find(const std::string &node) const
{
    return const_cast<PipelineDesc *>(this)->find(node);
}

Property *NodeDesc::find(const std::string &prop)
{
    for (auto &p : properties)
        if (p.name == prop)
            return &p;
    return nullptr;
}

namespace {

struct Loader {
    const std::string &file;
    const Environment &env;
    Diagnostics &diags;

    Location at(const toml::source_region &r) const
    {
        return {file, static_cast<int>(r.begin.line), static_cast<int>(r.begin.column)};
    }

    static const char *type_name(const toml::node &n)
    {
        switch (n.type()) {
        case toml::node_type::string: return "a string";
        case toml::node_type::integer: return "an integer";
        case toml::node_type::floating_point: return "a number";
        case toml::node_type::boolean: return "a boolean";
        case toml::node_type::array: return "an array";
        case toml::node_type::table: return "a table";
        default: return "a date/time";
        }
    }

    std::optional<std::string> expand(const std::string &s, const Location &where, bool *changed = nullptr,
                                      Stage stage = Stage::Load)
    {
        if (!env) // --set values are literal: the shell already expanded them
            return s;
        std::string err;
        auto out = interpolate(s, env, err, changed, stage);
        if (!out)
            diags.error(where, err);
        return out;
    }

    std::optional<Value> value_of(const toml::node &n)
    {
        Value v;
        v.where = at(n.source());
        if (auto s = n.as_string()) {
            bool changed = false;
            auto text = expand(s->get(), v.where, &changed);
            if (!text)
                return std::nullopt;
            v.kind = Value::Kind::String;
            v.text = *text;
            v.call_time = !call_time_references(s->get()).empty();
            v.retypable = changed || v.call_time;
        } else if (auto i = n.as_integer()) {
            v.kind = Value::Kind::Integer;
            v.integer = i->get();
            v.text = std::to_string(v.integer);
        } else if (auto f = n.as_floating_point()) {
            v.kind = Value::Kind::Float;
            v.number = f->get();
            std::ostringstream os;
            os << v.number;
            v.text = os.str();
        } else if (auto b = n.as_boolean()) {
            v.kind = Value::Kind::Bool;
            v.boolean = b->get();
            v.text = v.boolean ? "true" : "false";
        } else if (auto a = n.as_array()) {
            v.kind = Value::Kind::StringList;
            for (auto &&e : *a)
                if (auto str = e.as_string(); str && !call_time_references(str->get()).empty())
                    v.call_time = true;
            bool ok = true;
            for (auto &&e : *a) {
                auto s = e.as_string();
                if (!s) {
                    diags.error(at(e.source()),
                                std::string("array elements must be strings, found ") + type_name(e));
                    ok = false;
                    continue;
                }
                auto text = expand(s->get(), at(e.source()), nullptr, v.call_time ? Stage::Template : Stage::Load);
                if (!text) {
                    ok = false;
                    continue;
                }
                v.list.push_back(*text);
            }
            if (!ok)
                return std::nullopt;
            v.text = "[...]";
        } else {
            v.kind = Value::Kind::Other;
            v.text = type_name(n);
        }
        return v;
    }

    std::optional<std::string> string_of(const toml::node &n, const std::string &what)
    {
        if (auto s = n.as_string())
            return expand(s->get(), at(n.source()));
        diags.error(at(n.source()), what + " must be a string, found " + type_name(n));
        return std::nullopt;
    }

    std::optional<int64_t> integer_of(const toml::node &n, const std::string &what)
    {
        if (auto i = n.as_integer())
            return i->get();
        if (auto s = n.as_string()) {
            auto text = expand(s->get(), at(n.source()));
            if (!text)
                return std::nullopt;
            try {
                size_t used = 0;
                int64_t v = std::stoll(*text, &used);
                if (used == text->size())
                    return v;
            } catch (...) {
            }
            diags.error(at(n.source()), what + " must be an integer, \"" + s->get() + "\" gives '" + *text + "'");
            return std::nullopt;
        }
        diags.error(at(n.source()), what + " must be an integer, found " + type_name(n));
        return std::nullopt;
    }

    void gateway(const toml::table &t, GatewayDesc &gw)
    {
        static const std::vector<std::string> keys = {"name",         "after_call",   "call_start",   "call_end",
                                                      "idle_timeout", "max_duration", "max_call_duration",
                                                      "drain_timeout"};
        for (auto &&[k, v] : t) {
            std::string key(k.str());
            Location where = at(k.source());
            if (key == "name") {
                if (auto s = string_of(v, "gateway.name"))
                    gw.name = *s;
            } else if (key == "after_call") {
                if (auto s = string_of(v, "gateway.after_call")) {
                    if (*s == "exit")
                        gw.after_call = AfterCall::Exit;
                    else if (*s == "rearm")
                        gw.after_call = AfterCall::Rearm;
                    else
                        diags.error(at(v.source()),
                                    "gateway.after_call must be \"exit\" or \"rearm\", not \"" + *s + "\"");
                }
            } else if (key == "call_start" || key == "call_end") {
                if (auto s = string_of(v, "gateway." + key)) {
                    if (s->find('/') == std::string::npos)
                        diags.error(at(v.source()), "gateway." + key + " must be \"node/event\" (node may be '*')");
                    (key == "call_start" ? gw.call_start : gw.call_end) = *s;
                }
            } else if (int64_t *field = key == "idle_timeout"        ? &gw.idle_timeout
                                        : key == "max_duration"      ? &gw.max_duration
                                        : key == "max_call_duration" ? &gw.max_call_duration
                                        : key == "drain_timeout"     ? &gw.drain_timeout
                                                                     : nullptr) {
                if (auto i = integer_of(v, "gateway." + key)) {
                    if (*i < 0)
                        diags.error(at(v.source()), "gateway." + key + " must not be negative");
                    *field = *i;
                }
            } else {
                diags.error(where, "unknown key 'gateway." + key + "'" + did_you_mean(key, keys));
            }
        }
    }

    void inputs(const toml::node &n, NodeDesc &node)
    {
        auto t = n.as_table();
        if (!t) {
            diags.error(at(n.source()), "node '" + node.name +
                                            "': inputs must be a table { port = \"node.port\" }, found " +
                                            type_name(n));
            return;
        }
        for (auto &&[k, v] : *t) {
            auto src = string_of(v, "node '" + node.name + "': input '" + std::string(k.str()) + "'");
            if (src)
                node.inputs.push_back({std::string(k.str()), *src, at(k.source()), at(v.source())});
        }
    }

    void node(const std::string &name, const toml::node &n, const Location &where, PipelineDesc &desc)
    {
        auto t = n.as_table();
        if (!t) {
            diags.error(where, "node '" + name + "' must be a table [node." + name + "]");
            return;
        }
        NodeDesc nd;
        nd.name = name;
        nd.where = where;
        for (auto &&[k, v] : *t) {
            std::string key(k.str());
            if (key == "plugin") {
                if (auto s = string_of(v, "node '" + name + "': plugin")) {
                    nd.plugin = *s;
                    nd.plugin_where = at(v.source());
                }
            } else if (key == "start_on") {
                if (auto s = string_of(v, "node '" + name + "': start_on")) {
                    if (s->find('/') == std::string::npos)
                        diags.error(at(v.source()),
                                    "node '" + name + "': start_on must be \"node/event\", e.g. \"sip/call.established\"");
                    nd.start_on = *s;
                    nd.start_on_where = at(v.source());
                }
            } else if (key == "inputs") {
                inputs(v, nd);
            } else if (auto val = value_of(v)) {
                nd.properties.push_back({key, at(k.source()), *val});
            } else {
                Value bad; // reported by value_of()
                bad.invalid = true;
                bad.where = at(v.source());
                nd.properties.push_back({key, at(k.source()), bad});
            }
        }
        if (nd.plugin.empty() && !t->contains("plugin"))
            diags.error(where, "node '" + name + "': missing 'plugin'");
        desc.nodes.push_back(std::move(nd));
    }

    void document(const toml::table &root, PipelineDesc &desc)
    {
        for (auto &&[k, v] : root) {
            std::string key(k.str());
            if (key == "gateway") {
                if (auto t = v.as_table())
                    gateway(*t, desc.gateway);
                else
                    diags.error(at(k.source()), "'gateway' must be a table [gateway]");
            } else if (key == "node") {
                auto t = v.as_table();
                if (!t) {
                    diags.error(at(k.source()), "'node' must hold tables [node.NAME]");
                    continue;
                }
                for (auto &&[nk, nv] : *t)
                    node(std::string(nk.str()), nv, at(nk.source()), desc);
            } else {
                diags.error(at(k.source()),
                            "unknown top-level key '" + key + "' (expected [gateway] or [node.NAME])" +
                                did_you_mean(key, {"gateway", "node"}));
            }
        }
        if (desc.nodes.empty())
            diags.error({file, 1, 1}, "the pipeline has no nodes (add a [node.NAME] table)");
        // toml++ iterates keys sorted; nodes keep the file's order (it is
        // the order they start in).
        std::stable_sort(desc.nodes.begin(), desc.nodes.end(), [](const NodeDesc &a, const NodeDesc &b) {
            return std::tie(a.where.line, a.where.column) < std::tie(b.where.line, b.where.column);
        });
    }
};

} // namespace

std::optional<PipelineDesc> load_pipeline_string(const std::string &text, const std::string &file_name,
                                                 const Environment &env, Diagnostics &diags)
{
    toml::table root;
    try {
        root = toml::parse(text, file_name);
    } catch (const toml::parse_error &e) {
        const auto &b = e.source().begin;
        diags.error({file_name, static_cast<int>(b.line), static_cast<int>(b.column)},
                    std::string(e.description()));
        return std::nullopt;
    }
    PipelineDesc desc;
    desc.file = file_name;
    // Structure errors are recorded but the description is still returned,
    // so that validation can report the rest of the file's errors too.
    Loader{file_name, env, diags}.document(root, desc);
    return desc;
}

std::optional<PipelineDesc> load_pipeline_file(const std::string &path, const Environment &env,
                                               Diagnostics &diags)
{
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        diags.error({path, 0, 0}, "cannot read the file: " + std::string(std::strerror(errno)));
        return std::nullopt;
    }
    std::ostringstream text;
    text << in.rdbuf();
    return load_pipeline_string(text.str(), path, env, diags);
}

void apply_override(PipelineDesc &desc, const std::string &assignment, Diagnostics &diags)
{
    Location where{"<command line>", 0, 0};
    auto eq = assignment.find('=');
    auto dot = assignment.find('.');
    if (eq == std::string::npos || dot == std::string::npos || dot > eq || dot == 0 || eq == dot + 1) {
        diags.error(where, "--set '" + assignment + "': expected NODE.PROPERTY=VALUE");
        return;
    }
    std::string node = assignment.substr(0, dot);
    std::string key = assignment.substr(dot + 1, eq - dot - 1);
    std::string text = assignment.substr(eq + 1);
    if (node == "gateway") {
        toml::table t;
        t.insert(key, text);
        Loader{where.file, Environment{}, diags}.gateway(t, desc.gateway);
        return;
    }
    NodeDesc *nd = desc.find(node);
    if (!nd) {
        std::vector<std::string> names;
        for (auto &n : desc.nodes)
            names.push_back(n.name);
        diags.error(where, "--set '" + assignment + "': no node '" + node + "'" + did_you_mean(node, names));
        return;
    }
    Value v;
    v.kind = Value::Kind::String;
    v.text = text;
    v.retypable = true;
    v.where = where;
    if (key == "plugin" || key == "inputs" || key == "start_on") {
        diags.error(where, "--set '" + assignment + "': only properties can be overridden");
        return;
    }
    if (Property *p = nd->find(key))
        p->value = v;
    else
        nd->properties.push_back({key, where, v});
}

} // namespace mediagw
