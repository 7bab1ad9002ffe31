// Gateway::build when GStreamer says no: an element that cannot be made (its
// factory taken out of the registry for the test) or a link that cannot be
// made. build() fails with an error naming the element or the link; nothing
// runs half-built.
#include "unit.hpp"

#include "gateway.hpp"
#include "log_capture.hpp"

namespace {

bool contains(const std::string &text, const std::string &part) { return text.find(part) != std::string::npos; }

// Hides one element factory from gst_element_factory_make while alive.
class WithoutFactory {
public:
    explicit WithoutFactory(const char *name)
    {
        // The loaded feature: loading its plugin later would otherwise
        // register it again, and putting back a stale placeholder breaks it.
        GstPluginFeature *placeholder = gst_registry_lookup_feature(gst_registry_get(), name);
        REQUIRE(placeholder);
        feature_ = gst_plugin_feature_load(placeholder);
        gst_object_unref(placeholder);
        REQUIRE(feature_);
        gst_registry_remove_feature(gst_registry_get(), feature_);
        CHECK(gst_element_factory_make(name, nullptr) == nullptr);
    }
    ~WithoutFactory()
    {
        gst_registry_add_feature(gst_registry_get(), feature_);
        gst_object_unref(feature_);
    }
    WithoutFactory(const WithoutFactory &) = delete;

private:
    GstPluginFeature *feature_ = nullptr;
};

// build()'s error for `toml` (which validates).
std::string build_error(const std::string &toml)
{
    auto r = unit::check(toml);
    REQUIRE_MESSAGE(r.graph, r.errors);
    mediagw::Gateway gateway(std::move(*r.graph));
    std::string error;
    CHECK_FALSE(gateway.build(error));
    return error;
}

const std::string fan_out = R"(
[node.src]
plugin = "test-source"

[node.a]
plugin = "test-sink"
path = "unused"
inputs = { audio = "src.audio" }

[node.b]
plugin = "test-sink"
path = "unused"
inputs = { audio = "src.audio" }
)";

const std::string unused_output = R"(
[node.src]
plugin = "test-source"
)";

} // namespace

TEST_CASE("a missing tee or queue names the element and the link it was for")
{
    {
        WithoutFactory no("tee");
        CHECK(build_error(fan_out) == "cannot create GStreamer element 'tee' (fan-out of src.audio): is its plugin "
                                      "installed?");
    }
    {
        WithoutFactory no("queue");
        CHECK(build_error(fan_out) == "cannot create GStreamer element 'queue' (branch of link src.audio->a.audio): is "
                                      "its plugin installed?");
    }
}

TEST_CASE("a link that cannot make its passthrough element names the link")
{
    WithoutFactory no("identity");
    CHECK(build_error(fan_out).rfind("link src.audio->a.audio: cannot create GStreamer element 'identity'", 0) == 0);
}

TEST_CASE("an unused output without a fakesink to end in names the output")
{
    WithoutFactory no("fakesink");
    CHECK(build_error(unused_output) ==
          "cannot create GStreamer element 'fakesink' (end of src.audio->(unused)): is its plugin installed?");
}

TEST_CASE("a pad link refused by GStreamer names the link, both pads and why")
{
    std::string error = build_error(R"(
[node.taken]
plugin = "test-refusing"

[node.rec]
plugin = "test-sink"
path = "unused"
inputs = { audio = "taken.audio" }
)");
    CHECK(error.rfind("cannot link taken.audio->rec.audio: taken.src_audio -> ", 0) == 0);
    CHECK(contains(error, ": refused"));
    // The same pad left unused: the core's own fakesink link is checked too.
    error = build_error("[node.taken]\nplugin = \"test-refusing\"\n");
    CHECK(contains(error, "cannot link taken.audio->(unused): taken.src_audio -> "));
    CHECK(contains(error, ": refused"));
}

TEST_CASE("a node that cannot park its input reports a failure naming it")
{
    unit::LogCapture capture;
    auto r = unit::check(R"(
[gateway]
max_duration = 5

[node.src]
plugin = "test-source"
buffers = 5

[node.rec]
plugin = "test-sink"
path = "unused"
inputs = { audio = "src.audio" }

[node.parker]
plugin = "test-misbehave"
park = true
)");
    REQUIRE_MESSAGE(r.graph, r.errors);
    mediagw::Gateway gateway(std::move(*r.graph));
    std::string error;
    REQUIRE_MESSAGE(gateway.build(error), error);
    WithoutFactory no("fakesink"); // after build: test-sink makes one
    CHECK(gateway.run() == 1);
    CHECK(capture.has("node 'parker': route_input: cannot create or add a fakesink to park input 'audio'"));
}
