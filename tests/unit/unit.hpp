// Helpers shared by the unit tests: a fake environment and validation of a
// pipeline against the test plugins (plugins/ in this build folder).
#pragma once

#include "doctest.hpp"
#include "graph_spec.hpp"
#include "pipeline_desc.hpp"

#include <map>
#include <string>
#include <vector>

namespace unit {

inline mediagw::Environment fake_env(std::map<std::string, std::string> vars)
{
    return [vars = std::move(vars)](const std::string &name) -> std::optional<std::string> {
        auto it = vars.find(name);
        if (it == vars.end())
            return std::nullopt;
        return it->second;
    };
}

// The variables the fixtures may use.
inline mediagw::Environment fixture_env()
{
    return fake_env({{"PORT", "5060"}, {"BAD_PORT", "abc"}, {"EMPTY", ""}, {"HOST", "sip.example.org"}});
}

struct Checked {
    std::optional<mediagw::GraphSpec> graph;
    std::string errors; // Diagnostics::format()
    size_t error_count = 0;
};

// Load `text` as file "gw.toml", apply the --set overrides, validate.
inline Checked check(const std::string &text, const mediagw::Environment &env = fixture_env(),
                     const std::vector<std::string> &overrides = {})
{
    static mediagw::PluginRegistry registry({MGW_TEST_PLUGIN_DIR});
    mediagw::Diagnostics diags;
    Checked out;
    auto desc = mediagw::load_pipeline_string(text, "gw.toml", env, diags);
    if (desc) {
        for (auto &o : overrides)
            mediagw::apply_override(*desc, o, diags);
        out.graph = mediagw::resolve_graph(*desc, registry, diags);
    }
    out.errors = diags.format();
    out.error_count = diags.size();
    return out;
}

inline const mediagw::NodeSpec *node(const mediagw::GraphSpec &g, const std::string &name)
{
    for (auto &n : g.nodes)
        if (n.name == name)
            return &n;
    return nullptr;
}

} // namespace unit
