// ${VAR} interpolation, retyping of interpolated strings, --set overrides.
#include "unit.hpp"

using mediagw::interpolate;

namespace {

const auto env = unit::fake_env({{"A", "alpha"}, {"EMPTY", ""}, {"PORT", "5060"}, {"_x1", "under"}});

// The expansion, or "ERROR: message".
std::string expand(const std::string &in, bool *changed = nullptr)
{
    std::string error;
    auto out = interpolate(in, env, error, changed);
    return out ? *out : "ERROR: " + error;
}

int64_t int_prop(const mediagw::GraphSpec &g, const char *node, const char *prop)
{
    gint64 v = -1;
    CHECK(gst_structure_get_int64(unit::node(g, node)->properties.get(), prop, &v));
    return v;
}

std::string str_prop(const mediagw::GraphSpec &g, const char *node, const char *prop)
{
    const char *v = gst_structure_get_string(unit::node(g, node)->properties.get(), prop);
    return v ? v : "(none)";
}

} // namespace

TEST_CASE("variables and defaults")
{
    CHECK(expand("${A}") == "alpha");
    CHECK(expand("x${A}y${A}z") == "xalphayalphaz");
    CHECK(expand("${_x1}") == "under");
    CHECK(expand("${MISSING:-fallback}") == "fallback");
    CHECK(expand("${A:-fallback}") == "alpha");
    CHECK(expand("${MISSING:-}") == "");
    CHECK(expand("${MISSING:-a b:-c}") == "a b:-c");
}

TEST_CASE("an empty variable takes the default, like the shell's :-")
{
    CHECK(expand("${EMPTY:-d}") == "d");
    CHECK(expand("[${EMPTY}]") == "[]");
}

TEST_CASE("dollars")
{
    CHECK(expand("$$") == "$");
    CHECK(expand("$${A}") == "${A}");
    CHECK(expand("cost: 5$") == "cost: 5$");
    CHECK(expand("$A") == "$A");
    CHECK(expand("$$$${A}") == "$$" + std::string("{A}"));
}

TEST_CASE("`changed` tells whether anything was expanded")
{
    bool changed = true;
    CHECK(expand("plain $x", &changed) == "plain $x");
    CHECK_FALSE(changed);
    CHECK(expand("${A}", &changed) == "alpha");
    CHECK(changed);
    changed = false;
    CHECK(expand("${MISSING:-}", &changed) == "");
    CHECK(changed);
}

TEST_CASE("errors")
{
    CHECK(expand("${NOPE}") ==
          "ERROR: environment variable 'NOPE' is not set (write ${NOPE:-default} to give a default)");
    CHECK(expand("a ${A") == "ERROR: unterminated '${' in \"a ${A\"");
    CHECK(expand("${}") == "ERROR: bad variable name '' in '${}'");
    CHECK(expand("${1A}") == "ERROR: bad variable name '1A' in '${1A}'");
    CHECK(expand("${A-B}") == "ERROR: bad variable name 'A-B' in '${A-B}'");
    CHECK(expand("${A B:-x}") == "ERROR: bad variable name 'A B' in '${A B:-x}'");
    // An error anywhere fails the whole string.
    CHECK(expand("${A}${NOPE}").rfind("ERROR: ", 0) == 0);
}

TEST_CASE("the process environment")
{
    setenv("MGW_UNIT_TEST_VAR", "from-env", 1);
    unsetenv("MGW_UNIT_TEST_UNSET");
    auto penv = mediagw::process_environment();
    CHECK(penv("MGW_UNIT_TEST_VAR") == std::optional<std::string>("from-env"));
    CHECK_FALSE(penv("MGW_UNIT_TEST_UNSET"));
}

TEST_CASE("interpolated strings take the property's type")
{
    auto r = unit::check("[node.t]\nplugin = \"test-types\"\nport = \"${PORT}\"\n");
    REQUIRE_MESSAGE(r.graph, r.errors);
    CHECK(int_prop(*r.graph, "t", "port") == 5060);
}

TEST_CASE("good/all-types.toml: literal, interpolated and default values are typed")
{
    mediagw::PluginRegistry registry({MGW_TEST_PLUGIN_DIR});
    mediagw::Diagnostics diags;
    auto desc = mediagw::load_pipeline_file(MGW_TEST_FIXTURES "/good/all-types.toml", unit::fixture_env(), diags);
    REQUIRE(desc);
    auto g = mediagw::resolve_graph(*desc, registry, diags);
    REQUIRE_MESSAGE(g, diags.format());
    auto get = [&](const char *node) { return unit::node(*g, node)->properties.get(); };
    double gain = 0;
    gboolean enabled = TRUE;

    CHECK(int_prop(*g, "literal", "port") == 7000);
    CHECK(gst_structure_get_double(get("literal"), "gain", &gain));
    CHECK(gain == 2.0); // an integer literal for a number
    CHECK(gst_structure_get_boolean(get("literal"), "enabled", &enabled));
    CHECK_FALSE(enabled);
    CHECK(str_prop(*g, "literal", "mode") == "slow");

    CHECK(int_prop(*g, "interpolated", "port") == 5060);
    CHECK(gst_structure_get_double(get("interpolated"), "gain", &gain));
    CHECK(gain == 0.25);
    enabled = TRUE;
    CHECK(gst_structure_get_boolean(get("interpolated"), "enabled", &enabled));
    CHECK_FALSE(enabled);
    CHECK(str_prop(*g, "interpolated", "mode") == "fast");
    CHECK(str_prop(*g, "interpolated", "host") == "${HOST}");
    const GValue *servers = gst_structure_get_value(get("interpolated"), "servers");
    REQUIRE(servers);
    CHECK(g_strv_length(static_cast<char **>(g_value_get_boxed(servers))) == 3);

    CHECK(int_prop(*g, "defaults", "port") == 5060);
    CHECK(gst_structure_get_double(get("defaults"), "gain", &gain));
    CHECK(gain == 1.5);
    CHECK(str_prop(*g, "defaults", "host") == "localhost");
    CHECK_FALSE(gst_structure_has_field(get("defaults"), "token")); // no default, not required
}

TEST_CASE("an interpolated non-number is an error at the string's position")
{
    auto r = unit::check("[node.t]\nplugin = \"test-types\"\nport   =   \"${PORT}\"\n",
                         unit::fake_env({{"PORT", "abc"}}));
    CHECK_FALSE(r.graph);
    CHECK(r.errors == "gw.toml:3:12: error: node 't': property 'port': expected an integer, the value expands to "
                      "'abc'\n");
}

TEST_CASE("a secret reaches the node but not the logs")
{
    auto r = unit::check("[node.t]\nplugin = \"test-types\"\ntoken = \"${T}\"\n", unit::fake_env({{"T", "hunter2"}}));
    REQUIRE(r.graph);
    CHECK(str_prop(*r.graph, "t", "token") == "hunter2");
    // Logs print secrets masked.
    const mgw_property_spec spec = {"token", MGW_PROP_STRING, MGW_PROP_SECRET, nullptr, nullptr, ""};
    GValue gv = G_VALUE_INIT;
    g_value_init(&gv, G_TYPE_STRING);
    g_value_set_string(&gv, "hunter2");
    CHECK(mediagw::printable_value(spec, &gv) == "(secret)");
    g_value_unset(&gv);
}

TEST_CASE("--set overrides")
{
    const std::string text = "[node.t]\nplugin = \"test-types\"\nport = 1\n\n[gateway]\nname = \"gw\"\n";

    SUBCASE("a property, retyped like an interpolated string")
    {
        auto r = unit::check(text, unit::fixture_env(), {"t.port=5070", "t.host=h.example", "t.mode=slow"});
        REQUIRE_MESSAGE(r.graph, r.errors);
        CHECK(int_prop(*r.graph, "t", "port") == 5070);
        CHECK(str_prop(*r.graph, "t", "host") == "h.example");
        CHECK(str_prop(*r.graph, "t", "mode") == "slow");
    }
    SUBCASE("a list property splits on commas; the last --set wins")
    {
        auto r = unit::check(text, unit::fixture_env(), {"t.servers=a", "t.servers=b,c"});
        REQUIRE_MESSAGE(r.graph, r.errors);
        const GValue *v = gst_structure_get_value(unit::node(*r.graph, "t")->properties.get(), "servers");
        REQUIRE(v);
        auto strv = static_cast<char **>(g_value_get_boxed(v));
        REQUIRE(g_strv_length(strv) == 2);
        CHECK(std::string(strv[0]) == "b");
        CHECK(std::string(strv[1]) == "c");
    }
    SUBCASE("a value with '=' keeps it")
    {
        auto r = unit::check(text, unit::fixture_env(), {"t.host=a=b"});
        REQUIRE(r.graph);
        CHECK(str_prop(*r.graph, "t", "host") == "a=b");
    }
    SUBCASE("gateway keys")
    {
        auto r = unit::check(text, unit::fixture_env(), {"gateway.name=other", "gateway.idle_timeout=7"});
        REQUIRE_MESSAGE(r.graph, r.errors);
        CHECK(r.graph->gateway.name == "other");
        CHECK(r.graph->gateway.idle_timeout == 7);
    }
    SUBCASE("a mistyped value")
    {
        auto r = unit::check(text, unit::fixture_env(), {"t.port=abc"});
        CHECK(r.errors == "<command line>: error: node 't': property 'port': expected an integer, the value "
                          "expands to 'abc'\n");
    }
    SUBCASE("malformed assignments")
    {
        auto r = unit::check(text, unit::fixture_env(), {"t.port", "port=1", ".port=1", "t.=1"});
        CHECK(r.error_count == 4);
        CHECK(r.errors == "<command line>: error: --set 't.port': expected NODE.PROPERTY=VALUE\n"
                          "<command line>: error: --set 'port=1': expected NODE.PROPERTY=VALUE\n"
                          "<command line>: error: --set '.port=1': expected NODE.PROPERTY=VALUE\n"
                          "<command line>: error: --set 't.=1': expected NODE.PROPERTY=VALUE\n");
    }
    SUBCASE("unknown node, reserved key, unknown property")
    {
        auto r = unit::check(text, unit::fixture_env(), {"s.port=1", "t.plugin=test-sink", "t.prot=1"});
        CHECK(r.errors == "<command line>: error: --set 's.port=1': no node 's' (did you mean 't'?)\n"
                          "<command line>: error: --set 't.plugin=test-sink': only properties can be overridden\n"
                          "<command line>: error: node 't': unknown property 'prot' (did you mean 'port'?) "
                          "(plugin test-types)\n");
    }
    SUBCASE("bad gateway keys and values")
    {
        auto r = unit::check(text, unit::fixture_env(), {"gateway.idle_timeout=soon", "gateway.nmae=x"});
        CHECK(r.errors == "<command line>: error: gateway.idle_timeout must be an integer, \"soon\" gives 'soon'\n"
                          "<command line>: error: unknown key 'gateway.nmae' (did you mean 'name'?)\n");
    }
}

TEST_CASE("call-time values: a template at load, resolved at the node's start")
{
    using mediagw::Stage;
    std::string error;
    // At load: ${node.value} stays, "$$" and the environment's "$" keep their escapes.
    const auto dollar_env = unit::fake_env({{"A", "alpha"}, {"D", "a$b"}});
    auto load = interpolate("${A}/${src.room}/$${x}/${D}", dollar_env, error);
    REQUIRE(load);
    CHECK(*load == "alpha/${src.room}/$${x}/a$$b");
    // Without a reference nothing changes from before.
    CHECK(expand("$${src.room}") == "${src.room}");
    CHECK(interpolate("x$$y", env, error, nullptr, Stage::Template).value_or("?") == "x$$y");

    const auto values = unit::fake_env({{"src.room", "42"}, {"src.header.x-room", "7"}});
    CHECK(interpolate(*load, values, error, nullptr, Stage::CallTime).value_or("?") == "alpha/42/${x}/a$b");
    CHECK(interpolate("${src.header.x-room}", values, error, nullptr, Stage::CallTime).value_or("?") == "7");
    CHECK(interpolate("${src.pin:-0000}", values, error, nullptr, Stage::CallTime).value_or("?") == "0000");
    CHECK_FALSE(interpolate("${src.pin}", values, error, nullptr, Stage::CallTime));
    CHECK(error.find("'src.pin' has no value") != std::string::npos);

    auto refs = mediagw::call_time_references("$${a.b} ${A} ${src.room:-x} ${src.header.x-y}");
    REQUIRE(refs.size() == 2);
    CHECK(refs[0].node == "src");
    CHECK(refs[0].value == "room");
    CHECK(refs[1].value == "header.x-y");
}

TEST_CASE("call-time properties are resolved into the node's properties")
{
    auto r = unit::check("[node.src]\nplugin = \"test-source\"\n\n[node.t]\nplugin = \"test-types\"\n"
                         "start_on = \"src/ready\"\nhost = \"room-${src.room}\"\n"
                         "servers = [\"pin=${src.pin:-none}\", \"$${literal}\"]\n");
    REQUIRE_MESSAGE(r.graph, r.errors);
    auto *t = const_cast<mediagw::NodeSpec *>(unit::node(*r.graph, "t"));
    REQUIRE(t->call_time.size() == 2);
    std::string error;
    CHECK_FALSE(mediagw::resolve_call_time(*t, unit::fake_env({}), error));
    CHECK(error.find("property 'host' (gw.toml:7:8)") != std::string::npos);
    REQUIRE(mediagw::resolve_call_time(*t, unit::fake_env({{"src.room", "42"}}), error));
    CHECK(str_prop(*r.graph, "t", "host") == "room-42");
    const GValue *servers = gst_structure_get_value(t->properties.get(), "servers");
    REQUIRE(servers);
    auto strv = static_cast<char **>(g_value_get_boxed(servers));
    CHECK(std::string(strv[0]) == "pin=none");
    CHECK(std::string(strv[1]) == "${literal}");
}
