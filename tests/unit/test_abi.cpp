// The plugin ABI as it evolves: modules built against the ABI 1 layout
// (tests/unit/plugins/abi_v1_layout.h) and by a newer SDK (bigger descriptor
// and spec elements) both load; ops beyond ops->size are never called; the
// current layout keeps every ABI 1 field where it was.
#include "unit.hpp"

#include "abi.hpp"
#include "gateway.hpp"
#include "log_capture.hpp"
#include "registry.hpp"

#include <atomic>

// The ABI 1 layout beside the current one (GStreamer's headers are already
// included, so nothing but the mgw_ types lands in the namespace). The two
// structs declared before their definition are renamed, or their forward
// declarations would name the global ones.
#define mgw_node v1_mgw_node
#define mgw_host v1_mgw_host
namespace v1 {
#include "plugins/abi_v1_layout.h"
}
#undef mgw_node
#undef mgw_host

namespace {

#define SAME_FIELD(type, field)                                                                                       \
    static_assert(offsetof(v1::type, field) == offsetof(::type, field) &&                                            \
                      sizeof(v1::type::field) == sizeof(::type::field),                                               \
                  #type "." #field " moved: that breaks ABI 1")

SAME_FIELD(mgw_plugin_info, abi_version);
SAME_FIELD(mgw_plugin_info, info_size);
SAME_FIELD(mgw_plugin_info, name);
SAME_FIELD(mgw_plugin_info, version);
SAME_FIELD(mgw_plugin_info, description);
SAME_FIELD(mgw_plugin_info, provides);
SAME_FIELD(mgw_plugin_info, events);
SAME_FIELD(mgw_plugin_info, properties);
SAME_FIELD(mgw_plugin_info, n_properties);
SAME_FIELD(mgw_plugin_info, ports);
SAME_FIELD(mgw_plugin_info, n_ports);
SAME_FIELD(mgw_plugin_info, create);
SAME_FIELD(mgw_property_spec, name);
SAME_FIELD(mgw_property_spec, type);
SAME_FIELD(mgw_property_spec, flags);
SAME_FIELD(mgw_property_spec, default_value);
SAME_FIELD(mgw_property_spec, choices);
SAME_FIELD(mgw_property_spec, description);
SAME_FIELD(mgw_port_spec, name);
SAME_FIELD(mgw_port_spec, direction);
SAME_FIELD(mgw_port_spec, kind);
SAME_FIELD(mgw_port_spec, flags);
SAME_FIELD(mgw_port_spec, caps);
SAME_FIELD(mgw_port_spec, description);
SAME_FIELD(mgw_host_api, size);
SAME_FIELD(mgw_host_api, emit);
SAME_FIELD(mgw_host_api, log);
SAME_FIELD(mgw_host_api, fail);
SAME_FIELD(mgw_host_api, stopped);
SAME_FIELD(mgw_host_api, query);
SAME_FIELD(mgw_node_init, size);
SAME_FIELD(mgw_node_init, node_name);
SAME_FIELD(mgw_node_init, properties);
SAME_FIELD(mgw_node_init, host);
SAME_FIELD(mgw_node_init, api);
SAME_FIELD(mgw_node_ops, size);
SAME_FIELD(mgw_node_ops, element);
SAME_FIELD(mgw_node_ops, start);
SAME_FIELD(mgw_node_ops, stop);
SAME_FIELD(mgw_node_ops, event);
SAME_FIELD(mgw_node_ops, query);
SAME_FIELD(mgw_node_ops, destroy);
static_assert(mediagw::abi::info_size_v1 == sizeof(v1::mgw_plugin_info));
static_assert(mediagw::abi::property_size_v1 == sizeof(v1::mgw_property_spec));
static_assert(mediagw::abi::port_size_v1 == sizeof(v1::mgw_port_spec));

// Buffers reaching the fakesink of test-sink node `node`.
struct Counter {
    std::atomic<int> buffers = 0;
    void attach(GstElement *pipeline, const char *node)
    {
        GstElement *bin = gst_bin_get_by_name(GST_BIN(pipeline), node);
        REQUIRE(bin);
        GstElement *sink = gst_bin_get_by_name(GST_BIN(bin), "fakesink");
        REQUIRE(sink);
        GstPad *pad = gst_element_get_static_pad(sink, "sink");
        gst_pad_add_probe(
            pad, GST_PAD_PROBE_TYPE_BUFFER,
            [](GstPad *, GstPadProbeInfo *, gpointer self) {
                ++static_cast<Counter *>(self)->buffers;
                return GST_PAD_PROBE_OK;
            },
            this, nullptr);
        gst_object_unref(pad);
        gst_object_unref(sink);
        gst_object_unref(bin);
    }
};

} // namespace

TEST_CASE("a plugin built against the ABI 1 layout loads and runs")
{
    mediagw::PluginRegistry registry({MGW_TEST_PLUGIN_DIR});
    std::string error;
    const mediagw::Plugin *p = registry.load("test-abi-v1", error);
    REQUIRE_MESSAGE(p, error);
    CHECK(p->info->info_size == sizeof(v1::mgw_plugin_info));
    CHECK(p->info->info_size < sizeof(mgw_plugin_info));
    REQUIRE(p->property("buffers"));
    CHECK(std::string(p->property("buffers")->default_value) == "10");
    REQUIRE(p->port("audio", MGW_PORT_OUTPUT));

    unit::LogCapture capture;
    auto r = unit::check(R"(
[node.old]
plugin = "test-abi-v1"
buffers = 7

[node.rec]
plugin = "test-sink"
path = "unused"
inputs = { audio = "old.audio" }
)");
    REQUIRE_MESSAGE(r.graph, r.errors);
    mediagw::Gateway gateway(std::move(*r.graph));
    REQUIRE_MESSAGE(gateway.build(error), error);
    Counter rec;
    rec.attach(gateway.pipeline(), "rec");
    CHECK(gateway.run() == 0);
    CHECK(rec.buffers == 7);
    CHECK(capture.has("[test-abi-v1/old] an ABI 1 node"));
}

TEST_CASE("a plugin built by a newer SDK loads: only the fields this host knows are read")
{
    mediagw::PluginRegistry registry({MGW_TEST_PLUGIN_DIR});
    std::string error;
    const mediagw::Plugin *p = registry.load("test-abi-future", error);
    REQUIRE_MESSAGE(p, error);
    CHECK(p->info->info_size > sizeof(mgw_plugin_info));
    // Stepped by the module's element sizes, not this host's.
    REQUIRE(p->info->n_properties == 2);
    CHECK(std::string(p->info->properties[1].name) == "label");
    CHECK(std::string(p->info->properties[1].default_value) == "future");
    REQUIRE(p->info->n_ports == 2);
    CHECK(p->info->ports[1].direction == MGW_PORT_INPUT);
    CHECK(std::string(p->info->ports[1].caps) == "audio/x-raw");

    auto r = unit::check(R"(
[node.src]
plugin = "test-source"
buffers = 3

[node.new]
plugin = "test-abi-future"
level = 5
inputs = { audio = "src.audio" }
)");
    REQUIRE_MESSAGE(r.graph, r.errors);
    const GstStructure *props = unit::node(*r.graph, "new")->properties.get();
    CHECK(std::string(gst_structure_get_string(props, "label")) == "future");
    mediagw::Gateway gateway(std::move(*r.graph));
    CHECK_MESSAGE(gateway.build(error), error);
}

TEST_CASE("ops beyond the module's ops->size are treated as NULL")
{
    unit::LogCapture capture;
    auto r = unit::check(R"(
[node.src]
plugin = "test-source"
buffers = 3

[node.rec]
plugin = "test-sink"
path = "unused"
inputs = { audio = "src.audio" }

[node.short]
plugin = "test-short-ops"

[node.talker]
plugin = "test-misbehave"
emit = "ping"
ask = "short"
)");
    REQUIRE_MESSAGE(r.graph, r.errors);
    mediagw::Gateway gateway(std::move(*r.graph));
    std::string error;
    REQUIRE_MESSAGE(gateway.build(error), error);
    // Its event, query and destroy would abort the process.
    CHECK(gateway.run() == 0);
    CHECK(capture.has("asked short: no answer"));
}
