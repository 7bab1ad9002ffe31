// Plugin search, duplicates and refusals (modules built under registry/).
#include "unit.hpp"

#include "abi.hpp"
#include "registry.hpp"

#include <algorithm>
#include <cstdlib>
#include <dlfcn.h>

using mediagw::PluginRegistry;

namespace {

const std::string dir = MGW_TEST_REGISTRY_DIR;
const std::string first = dir + "/first", second = dir + "/second", bad = dir + "/bad";

bool contains(const std::string &text, const std::string &part) { return text.find(part) != std::string::npos; }

// Is the module still mapped in this process?
bool still_loaded(const std::string &path)
{
    void *h = dlopen(path.c_str(), RTLD_NOW | RTLD_NOLOAD);
    if (h)
        dlclose(h);
    return h != nullptr;
}

// Load `name` from bad/; the error must name the file.
std::string refusal(const std::string &name)
{
    PluginRegistry registry({bad});
    std::string error;
    const std::string path = bad + "/mgw-" + name + ".so";
    CHECK(registry.load(name, error) == nullptr);
    CHECK(error.rfind(path + ": ", 0) == 0);
    // Not cached either: a second attempt is refused the same way.
    std::string again;
    CHECK(registry.load(name, again) == nullptr);
    CHECK(again == error);
    CHECK_FALSE(still_loaded(path));
    return error;
}

} // namespace

TEST_CASE("the first directory of the search path wins")
{
    PluginRegistry a({first, second});
    std::string error;
    const mediagw::Plugin *p = a.load("dup", error);
    REQUIRE_MESSAGE(p, error);
    CHECK(std::string(p->info->version) == "first");
    CHECK(p->path == first + "/mgw-dup.so");
    CHECK(still_loaded(p->path)); // the probe used for refused modules works

    PluginRegistry b({second, first});
    p = b.load("dup", error);
    REQUIRE_MESSAGE(p, error);
    CHECK(std::string(p->info->version) == "second");
}

TEST_CASE("two modules with one name: a warning names both files")
{
    PluginRegistry registry({first, second});
    CHECK(registry.warnings().empty());
    std::string error;
    REQUIRE(registry.load("dup", error));
    REQUIRE(registry.warnings().size() == 1);
    CHECK(registry.warnings()[0] == "plugin 'dup' found twice: using " + first + "/mgw-dup.so, ignoring " + second +
                                        "/mgw-dup.so");
    // Loading again uses the loaded module and does not warn again.
    const mediagw::Plugin *p1 = registry.load("dup", error);
    CHECK(registry.load("dup", error) == p1);
    CHECK(registry.warnings().size() == 1);
}

TEST_CASE("a directory listed twice is searched once")
{
    PluginRegistry registry({first, first});
    std::string error;
    REQUIRE(registry.load("dup", error));
    CHECK(registry.warnings().empty());
}

TEST_CASE("modules one level down are found")
{
    PluginRegistry registry({second});
    std::string error;
    const mediagw::Plugin *p = registry.load("nested", error);
    REQUIRE_MESSAGE(p, error);
    CHECK(p->path == second + "/sub/mgw-nested.so");
    auto names = registry.available();
    CHECK(names == std::vector<std::string>{"dup", "nested"});
    // Two levels down is too deep.
    PluginRegistry from_top({dir});
    CHECK(from_top.load("nested", error) == nullptr);
    CHECK(error == "no plugin 'nested'");
}

TEST_CASE("a missing plugin or directory")
{
    PluginRegistry registry({"/nonexistent", first});
    std::string error;
    CHECK(registry.load("nothing", error) == nullptr);
    CHECK(error == "no plugin 'nothing'");
    CHECK(registry.load("dup", error) != nullptr);
}

TEST_CASE("a module calling itself by another name is refused")
{
    CHECK(refusal("misnamed") == bad + "/mgw-misnamed.so: module file name says 'misnamed' but the plugin calls "
                                       "itself 'other-name'");
}

TEST_CASE("a module of another ABI version is refused, naming both versions")
{
    std::string error = refusal("wrong-abi");
    CHECK(contains(error, "version " + std::to_string(MGW_ABI_VERSION + 1)));
    CHECK(contains(error, "expects version " + std::to_string(MGW_ABI_VERSION)));
}

TEST_CASE("a module without the descriptor symbol is refused")
{
    CHECK(refusal("no-symbol") ==
          bad + "/mgw-no-symbol.so: not a mediagw plugin (no '" MGW_PLUGIN_SYMBOL_NAME "' symbol)");
}

TEST_CASE("a descriptor smaller than the ABI 1 baseline is refused from the file, naming both sizes")
{
    // Its constructor aborts: refused before dlopen() or the test would die.
    CHECK(refusal("small-info") == bad + "/mgw-small-info.so: plugin descriptor is 8 bytes, smaller than the ABI " +
                                       std::to_string(MGW_ABI_VERSION) + " baseline of " +
                                       std::to_string(mediagw::abi::info_size_v1) + " bytes");
}

TEST_CASE("a schema error is refused")
{
    CHECK(refusal("dup-prop") == bad + "/mgw-dup-prop.so: plugin 'dup-prop': property 'level' is declared twice");
}

TEST_CASE("load_all returns the good modules and one error per refused module")
{
    PluginRegistry registry({first, bad, second});
    std::vector<std::string> errors;
    auto plugins = registry.load_all(errors);
    std::vector<std::string> names;
    for (auto p : plugins)
        names.push_back(p->info->name);
    CHECK(names == std::vector<std::string>{"dup", "nested"});
    CHECK(errors.size() == 5);
    for (const char *m : {"misnamed", "dup-prop", "wrong-abi", "small-info", "no-symbol"}) {
        CAPTURE(m);
        CHECK(std::count_if(errors.begin(), errors.end(), [&](const std::string &e) {
                  return e.rfind(bad + "/mgw-" + m + ".so: ", 0) == 0;
              }) == 1);
    }
}

TEST_CASE("a pipeline naming a refused plugin fails at the plugin's position")
{
    mediagw::Diagnostics diags;
    auto desc = mediagw::load_pipeline_string("[node.x]\nplugin = \"wrong-abi\"\nanything = 1\n", "gw.toml",
                                              unit::fixture_env(), diags);
    REQUIRE(desc);
    PluginRegistry registry({bad});
    CHECK_FALSE(mediagw::resolve_graph(*desc, registry, diags));
    REQUIRE(diags.size() == 1);
    CHECK(diags.list()[0].where.line == 2);
    CHECK(diags.list()[0].where.column == 10);
    CHECK(contains(diags.list()[0].message, "mgw-wrong-abi.so: plugin ABI version"));
}

TEST_CASE("MEDIAGW_PLUGIN_PATH comes first in the default search path, in order")
{
    setenv("MEDIAGW_PLUGIN_PATH", (second + "::" + first).c_str(), 1);
    auto path = PluginRegistry::default_search_path();
    unsetenv("MEDIAGW_PLUGIN_PATH");
    REQUIRE(path.size() >= 3);
    CHECK(path[0] == second);
    CHECK(path[1] == first);
    CHECK(path.back() == MEDIAGW_PLUGIN_INSTALL_DIR_FOR_TESTS);
    PluginRegistry registry(path);
    std::string error;
    REQUIRE(registry.load("dup", error));
    CHECK(std::string(registry.load("dup", error)->info->version) == "second");
}

TEST_CASE("run from the build tree, the build tree's plugins are searched")
{
    unsetenv("MEDIAGW_PLUGIN_PATH");
    auto path = PluginRegistry::default_search_path();
    CHECK(std::find(path.begin(), path.end(), std::string(MEDIAGW_BUILD_ROOT_FOR_TESTS) + "/plugins") != path.end());
}
