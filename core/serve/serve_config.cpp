#include "serve_config.hpp"

#include <glib.h>
#include <toml++/toml.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>

namespace mediagw::serve {

const Template *ServeConfig::find(const std::string &name) const
{
    for (auto &t : templates)
        if (t.name == name)
            return &t;
    return nullptr;
}

namespace {

struct Reader {
    const std::string &file;
    const Environment &env;
    Diagnostics &diags;
    Location serve_at{file, 1, 1};

    Location at(const toml::node &n) const
    {
        return {file, static_cast<int>(n.source().begin.line), static_cast<int>(n.source().begin.column)};
    }

    void string(const toml::node &n, const std::string &key, std::string &out)
    {
        auto s = n.as_string();
        if (!s) {
            diags.error(at(n), "'" + key + "' must be a string");
            return;
        }
        std::string err;
        auto v = interpolate(s->get(), env, err);
        if (!v)
            diags.error(at(n), "'" + key + "': " + err);
        else
            out = *v;
    }

    void number(const toml::node &n, const std::string &key, double &out, double min)
    {
        std::optional<double> v;
        if (auto i = n.as_integer())
            v = double(i->get());
        else if (auto f = n.as_floating_point())
            v = f->get();
        if (!v || *v < min)
        {
            char text[32];
            snprintf(text, sizeof text, "%g", min);
            diags.error(at(n), "'" + key + "' must be a number of at least " + text);
        }
        else
            out = *v;
    }

    void integer(const toml::node &n, const std::string &key, int &out, int min, int max)
    {
        auto i = n.as_integer();
        if (!i || i->get() < min || i->get() > max)
            diags.error(at(n), "'" + key + "' must be an integer from " + std::to_string(min) + " to " +
                                   std::to_string(max));
        else
            out = int(i->get());
    }

    void boolean(const toml::node &n, const std::string &key, bool &out)
    {
        auto b = n.as_boolean();
        if (!b)
            diags.error(at(n), "'" + key + "' must be true or false");
        else
            out = b->get();
    }

    // At the key itself (its value may be far to the right, or a table).
    void unknown(const toml::key &k, const std::string &section, const std::vector<std::string> &known)
    {
        const std::string key(k.str());
        diags.error({file, static_cast<int>(k.source().begin.line), static_cast<int>(k.source().begin.column)},
                    "unknown key '" + section + "." + key + "'" + did_you_mean(key, known));
    }

    void serve(const toml::table &t, ServeConfig &c)
    {
        static const std::vector<std::string> keys = {
            "sip", "api", "token", "cpu", "memory_mb", "gateway_address", "retry_after", "reservation_timeout",
            "drain_timeout", "start_timeout", "records", "records_url", "metrics_public", "gateway_logs"};
        for (auto &&[k, v] : t) {
            const std::string key(k.str());
            if (key == "sip") string(v, key, c.sip);
            else if (key == "api") string(v, key, c.api);
            else if (key == "token") string(v, key, c.token);
            else if (key == "cpu") number(v, key, c.cpu, 0.001);
            else if (key == "memory_mb") number(v, key, c.memory_mb, 1);
            else if (key == "gateway_address") string(v, key, c.gateway_address);
            else if (key == "retry_after") integer(v, key, c.retry_after, 1, 3600);
            else if (key == "reservation_timeout") integer(v, key, c.reservation_timeout, 1, 120);
            else if (key == "drain_timeout") integer(v, key, c.drain_timeout, 0, 86400);
            else if (key == "start_timeout") integer(v, key, c.start_timeout, 1, 300);
            else if (key == "records") string(v, key, c.records);
            else if (key == "records_url") string(v, key, c.records_url);
            else if (key == "metrics_public") boolean(v, key, c.metrics_public);
            else if (key == "gateway_logs") string(v, key, c.gateway_logs);
            else unknown(k, "serve", keys);
        }
    }

    void templ(const std::string &name, const toml::node &node, ServeConfig &c)
    {
        static const std::vector<std::string> keys = {"pipeline", "warm", "cpu", "memory_mb", "max_calls", "match",
                                                      "default", "sip_node", "env", "set"};
        auto t = node.as_table();
        if (!t) {
            diags.error(at(node), "'template." + name + "' must be a table");
            return;
        }
        Template tp;
        tp.name = name;
        tp.where = at(node);
        for (auto &&[k, v] : *t) {
            const std::string key(k.str());
            if (key == "pipeline") string(v, key, tp.pipeline);
            else if (key == "warm") integer(v, key, tp.warm, 0, 1000);
            else if (key == "cpu") number(v, key, tp.cpu, 0.0001);
            else if (key == "memory_mb") number(v, key, tp.memory_mb, 0.1);
            else if (key == "max_calls") integer(v, key, tp.max_calls, 0, 100000);
            else if (key == "match") {
                string(v, key, tp.match);
                GError *err = nullptr;
                GRegex *rx = tp.match.empty() ? nullptr : g_regex_new(tp.match.c_str(), G_REGEX_OPTIMIZE,
                                                                      GRegexMatchFlags(0), &err);
                if (err) {
                    diags.error(at(v), "'match': not a regular expression: " + std::string(err->message));
                    g_error_free(err);
                }
                if (rx)
                    g_regex_unref(rx);
            } else if (key == "default") boolean(v, key, tp.is_default);
            else if (key == "sip_node") string(v, key, tp.sip_node);
            else if (key == "env") {
                auto e = v.as_table();
                if (!e) {
                    diags.error(at(v), "'env' must be a table of strings: env = { NAME = \"value\" }");
                    continue;
                }
                for (auto &&[ek, ev] : *e) {
                    const std::string var(ek.str());
                    if (!g_regex_match_simple("^[A-Za-z_][A-Za-z0-9_]*$", var.c_str(), GRegexCompileFlags(0),
                                              GRegexMatchFlags(0)))
                        diags.error(at(ev), "'env': '" + var + "' is not a variable name");
                    string(ev, "env." + var, tp.env[var]);
                }
            } else if (key == "set") {
                auto a = v.as_array();
                if (!a) {
                    diags.error(at(v), "'set' must be a list of \"NODE.PROPERTY=VALUE\" strings");
                    continue;
                }
                for (auto &&e : *a) {
                    std::string s;
                    string(e, "set", s);
                    if (!s.empty() && s.find('=') == std::string::npos)
                        diags.error(at(e), "'set': \"" + s + "\" is not NODE.PROPERTY=VALUE");
                    tp.overrides.push_back(s);
                }
            } else unknown(k, "template." + name, keys);
        }
        if (tp.pipeline.empty())
            diags.error(tp.where, "template '" + name + "' has no 'pipeline'");
        else if (!g_path_is_absolute(tp.pipeline.c_str())) {
            gchar *dir = g_path_get_dirname(file.c_str());
            gchar *full = g_build_filename(dir, tp.pipeline.c_str(), nullptr);
            tp.pipeline = full;
            g_free(full);
            g_free(dir);
        }
        c.templates.push_back(std::move(tp));
    }

    void document(const toml::table &root, ServeConfig &c)
    {
        for (auto &&[k, v] : root) {
            const std::string key(k.str());
            if (key == "serve" && v.as_table()) {
                serve_at = at(v);
                serve(*v.as_table(), c);
            }
            else if (key == "template" && v.as_table())
                for (auto &&[name, t] : *v.as_table())
                    templ(std::string(name.str()), t, c);
            else
                diags.error(at(v), "unknown section '" + key + "' (expected [serve] or [template.NAME])" +
                                       did_you_mean(key, {"serve", "template"}));
        }
        if (c.templates.empty())
            diags.error({file, 1, 1}, "no [template.NAME]: serve needs at least one");
        int defaults = 0;
        for (auto &t : c.templates)
            defaults += t.is_default;
        if (defaults > 1)
            diags.error({file, 1, 1}, "more than one template has default = true");
        if (!c.api.empty() && c.token.empty())
            diags.error(serve_at, "[serve] token is required with an API (api = \"\" turns the API off)");
    }
};

} // namespace

std::optional<ServeConfig> load_serve_string(const std::string &text, const std::string &file, const Environment &env,
                                             Diagnostics &diags)
{
    toml::table root;
    try {
        root = toml::parse(text, file);
    } catch (const toml::parse_error &e) {
        const auto &b = e.source().begin;
        diags.error({file, static_cast<int>(b.line), static_cast<int>(b.column)}, std::string(e.description()));
        return std::nullopt;
    }
    ServeConfig c;
    c.file = file;
    Reader{file, env, diags}.document(root, c);
    if (!diags.empty())
        return std::nullopt;
    return c;
}

std::optional<ServeConfig> load_serve_config(const std::string &path, const Environment &env, Diagnostics &diags)
{
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        diags.error({path, 0, 0}, "cannot read the file: " + std::string(std::strerror(errno)));
        return std::nullopt;
    }
    std::stringstream ss;
    ss << in.rdbuf();
    return load_serve_string(ss.str(), path, env, diags);
}

} // namespace mediagw::serve
