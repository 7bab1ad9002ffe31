// Broken pipeline files give exactly the diagnostics in their sibling
// .expected file (FILE:LINE:COL: error: ..., FILE relative to broken/);
// good files validate without any.
#include "unit.hpp"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace fs = std::filesystem;

namespace {

const fs::path fixtures = MGW_TEST_FIXTURES;

std::string read(const fs::path &p)
{
    std::ifstream in(p);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

std::vector<fs::path> tomls(const fs::path &dir)
{
    std::vector<fs::path> out;
    for (auto &e : fs::directory_iterator(dir))
        if (e.path().extension() == ".toml")
            out.push_back(e.path());
    std::sort(out.begin(), out.end());
    return out;
}

// Validate a fixture file; diagnostics with the folder stripped from paths.
std::string diagnose(const fs::path &file, size_t &count)
{
    mediagw::PluginRegistry registry({MGW_TEST_PLUGIN_DIR});
    mediagw::Diagnostics diags;
    if (auto desc = mediagw::load_pipeline_file(file.string(), unit::fixture_env(), diags))
        mediagw::resolve_graph(*desc, registry, diags);
    count = diags.size();
    std::string text = diags.format(), prefix = file.parent_path().string() + "/";
    for (size_t at; (at = text.find(prefix)) != std::string::npos;)
        text.erase(at, prefix.size());
    return text;
}

} // namespace

TEST_CASE("every broken fixture gives exactly its expected diagnostics")
{
    auto files = tomls(fixtures / "broken");
    // The list; a lost fixture must not go unnoticed.
    for (const char *name : {"unknown-plugin", "unknown-property", "mistyped-property", "missing-required",
                             "unknown-port", "media-kind-mismatch", "required-input-not-fed", "bad-reference",
                             "syntax-error", "duplicate-node", "unknown-gateway-key", "bad-interpolation",
                             "several-errors"}) {
        CAPTURE(name);
        CHECK(fs::exists(fixtures / "broken" / (std::string(name) + ".toml")));
    }
    for (auto &file : files) {
        CAPTURE(file.filename().string());
        fs::path expected = file;
        expected.replace_extension(".expected");
        REQUIRE_MESSAGE(fs::exists(expected), "missing " << expected.string());
        size_t count = 0;
        std::string got = diagnose(file, count);
        CHECK(count > 0);
        CHECK(got == read(expected));
    }
}

TEST_CASE("several errors are all reported, each once")
{
    size_t count = 0;
    std::string got = diagnose(fixtures / "broken" / "several-errors.toml", count);
    CHECK(count == 9);
    for (const char *what : {"gateway.after_call", "property 'rate'", "unknown property 'fps'",
                             "missing required property 'path'", "takes audio but 'cam.video' gives video",
                             "unknown plugin 'no-such-plugin'", "does not", "emits no event",
                             "unknown top-level key 'extra'"}) {
        CAPTURE(what);
        CHECK(got.find(what) != std::string::npos);
    }
}

TEST_CASE("good fixtures validate")
{
    auto files = tomls(fixtures / "good");
    CHECK(files.size() >= 4);
    for (auto &file : files) {
        CAPTURE(file.filename().string());
        size_t count = 0;
        CHECK(diagnose(file, count) == "");
        CHECK(count == 0);
    }
}

TEST_CASE("an echo node feeds itself")
{
    auto r = unit::check(read(fixtures / "good" / "echo.toml"));
    REQUIRE(r.graph);
    REQUIRE(r.graph->links.size() == 1);
    const auto &l = r.graph->links[0];
    CHECK(l.from == l.to);
    CHECK(std::string(l.from_port->name) == "audio");
    CHECK(l.from_port->direction == MGW_PORT_OUTPUT);
    CHECK(l.to_port->direction == MGW_PORT_INPUT);
}

TEST_CASE("a string pipeline reports the name it was given and 1-based positions")
{
    auto r = unit::check("[node.src]\nplugin = \"test-source\"\n  rate = true\n");
    CHECK(r.errors == "gw.toml:3:10: error: node 'src': property 'rate': expected an integer, found a boolean\n");
}

TEST_CASE("an unreadable file is one error naming it")
{
    mediagw::Diagnostics diags;
    auto desc = mediagw::load_pipeline_file("/nonexistent/gw.toml", unit::fixture_env(), diags);
    CHECK_FALSE(desc);
    REQUIRE(diags.size() == 1);
    CHECK(diags.format().rfind("/nonexistent/gw.toml: error: cannot read the file: ", 0) == 0);
}

TEST_CASE("an empty pipeline has no nodes")
{
    auto r = unit::check("");
    CHECK_FALSE(r.graph);
    CHECK(r.errors == "gw.toml:1:1: error: the pipeline has no nodes (add a [node.NAME] table)\n");
}
