// Graph linking: a validated GraphSpec, a LinkAdapter re-planning when the
// caps change, and a whole Gateway run where one link passes media through
// and another converts it.
#include "unit.hpp"

#include "gateway.hpp"
#include "link_adapter.hpp"

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <thread>

namespace {

// Counts the buffers reaching a pad and remembers the last caps.
struct Tap {
    std::atomic<int> buffers = 0;
    std::mutex mutex;
    std::string caps;

    void attach(GstPad *pad)
    {
        gst_pad_add_probe(pad, GstPadProbeType(GST_PAD_PROBE_TYPE_BUFFER | GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM),
                          on_data, this, nullptr);
    }
    std::string last_caps()
    {
        std::lock_guard lock(mutex);
        return caps;
    }
    static GstPadProbeReturn on_data(GstPad *, GstPadProbeInfo *info, gpointer data)
    {
        auto self = static_cast<Tap *>(data);
        if (info->type & GST_PAD_PROBE_TYPE_BUFFER) {
            ++self->buffers;
        } else if (GST_EVENT_TYPE(GST_PAD_PROBE_INFO_EVENT(info)) == GST_EVENT_CAPS) {
            GstCaps *caps;
            gst_event_parse_caps(GST_PAD_PROBE_INFO_EVENT(info), &caps);
            gchar *s = gst_caps_to_string(caps);
            std::lock_guard lock(self->mutex);
            self->caps = s;
            g_free(s);
        }
        return GST_PAD_PROBE_OK;
    }
};

bool wait_for(const std::function<bool()> &done, int ms = 5000)
{
    for (int i = 0; i < ms / 10 && !done(); ++i)
        g_usleep(10000);
    return done();
}

// The node whose output feeds `adapter`.
std::string upstream_node(const mediagw::LinkAdapter &adapter)
{
    GstPad *peer = gst_pad_get_peer(adapter.sink());
    REQUIRE(peer);
    GstObject *bin = gst_pad_get_parent(peer);
    gchar *name = gst_object_get_name(bin);
    std::string out = name;
    g_free(name);
    gst_object_unref(bin);
    gst_object_unref(peer);
    return out;
}

GstPad *fakesink_pad(GstElement *pipeline, const char *node)
{
    GstElement *bin = gst_bin_get_by_name(GST_BIN(pipeline), node);
    REQUIRE(bin);
    GstElement *sink = gst_bin_get_by_name(GST_BIN(bin), "fakesink");
    REQUIRE(sink);
    GstPad *pad = gst_element_get_static_pad(sink, "sink");
    gst_object_unref(sink);
    gst_object_unref(bin);
    return pad;
}

} // namespace

TEST_CASE("validation resolves links to the plugins' port specs")
{
    auto r = unit::check(R"(
[node.src]
plugin = "test-source"
[node.web]
plugin = "test-web"
ice = "nat"
inputs = { audio = "src.audio" }
[node.out]
plugin = "test-sink"
path = "x"
inputs = { audio = "web.audio" }
[node.nat]
plugin = "test-ice"
)");
    REQUIRE_MESSAGE(r.graph, r.errors);
    const auto &g = *r.graph;
    REQUIRE(g.nodes.size() == 4);
    // Nodes keep the file's order.
    CHECK(g.nodes[0].name == "src");
    CHECK(g.nodes[3].name == "nat");
    REQUIRE(g.links.size() == 2);
    CHECK(g.nodes[g.links[0].from].name == "src");
    CHECK(g.nodes[g.links[0].to].name == "web");
    CHECK(g.nodes[g.links[1].from].name == "web");
    CHECK(g.nodes[g.links[1].to].name == "out");
    CHECK(g.links[1].from_port->direction == MGW_PORT_OUTPUT);
    CHECK(g.links[1].to_port->direction == MGW_PORT_INPUT);
    // Defaults are filled in and typed.
    gint64 rate = 0;
    CHECK(gst_structure_get_int64(g.nodes[0].properties.get(), "rate", &rate));
    CHECK(rate == 48000);
    CHECK(std::string(gst_structure_get_string(g.nodes[2].properties.get(), "label")) == "");
}

TEST_CASE("event patterns")
{
    CHECK(mediagw::event_matches("*/call.established", "sip", "call.established"));
    CHECK(mediagw::event_matches("sip/call.established", "sip", "call.established"));
    CHECK_FALSE(mediagw::event_matches("sip/call.established", "web", "call.established"));
    CHECK_FALSE(mediagw::event_matches("sip/call.established", "sip", "call.ended"));
    CHECK_FALSE(mediagw::event_matches("sip/call", "sip", "call.established"));
    CHECK_FALSE(mediagw::event_matches("call.established", "sip", "call.established"));
}

TEST_CASE("a link adapter passes through, then re-plans when the codec changes")
{
    std::mutex mutex;
    std::vector<std::string> reports;
    std::string create_error;
    auto made = mediagw::LinkAdapter::create("a.audio->b.audio", MGW_MEDIA_AUDIO,
                                             [&](bool error, const std::string &m) {
                                                 std::lock_guard lock(mutex);
                                                 reports.push_back((error ? "error: " : "") + m);
                                             },
                                             create_error);
    REQUIRE_MESSAGE(made, create_error);
    mediagw::LinkAdapter &adapter = *made;
    CHECK(adapter.current_plan() == "");

    GstElement *pipeline = gst_pipeline_new(nullptr);
    GstElement *src = gst_element_factory_make("appsrc", nullptr);
    GstElement *filter = gst_element_factory_make("capsfilter", nullptr);
    GstElement *sink = gst_element_factory_make("fakesink", nullptr);
    REQUIRE((src && filter && sink));
    GstCaps *narrow = gst_caps_from_string("audio/x-raw, format=S16LE, rate=8000, channels=1, layout=interleaved");
    GstCaps *mulaw = gst_caps_from_string("audio/x-mulaw, rate=8000, channels=1");
    g_object_set(filter, "caps", narrow, nullptr);
    g_object_set(sink, "sync", FALSE, nullptr);
    g_object_set(src, "caps", narrow, "format", GST_FORMAT_TIME, nullptr);
    gst_bin_add_many(GST_BIN(pipeline), src, adapter.element(), filter, sink, nullptr);
    GstPad *src_pad = gst_element_get_static_pad(src, "src");
    GstPad *filter_pad = gst_element_get_static_pad(filter, "sink");
    REQUIRE(gst_pad_link(src_pad, adapter.sink()) == GST_PAD_LINK_OK);
    REQUIRE(gst_pad_link(adapter.src(), filter_pad) == GST_PAD_LINK_OK);
    gst_object_unref(src_pad);
    gst_object_unref(filter_pad);
    REQUIRE(gst_element_link(filter, sink));
    Tap tap;
    GstPad *sink_pad = gst_element_get_static_pad(sink, "sink");
    tap.attach(sink_pad);
    gst_object_unref(sink_pad);
    REQUIRE(gst_element_set_state(pipeline, GST_STATE_PLAYING) != GST_STATE_CHANGE_FAILURE);

    auto push = [&](size_t bytes, int index) {
        GstBuffer *b = gst_buffer_new_allocate(nullptr, bytes, nullptr);
        gst_buffer_memset(b, 0, 0x7f, bytes);
        GST_BUFFER_PTS(b) = index * 20 * GST_MSECOND;
        GST_BUFFER_DURATION(b) = 20 * GST_MSECOND;
        GstFlowReturn ret;
        g_signal_emit_by_name(src, "push-buffer", b, &ret);
        gst_buffer_unref(b);
        return ret;
    };
    // 20 ms of 8 kHz S16LE: what the sink takes, so passthrough.
    CHECK(push(320, 0) == GST_FLOW_OK);
    CHECK(wait_for([&] { return tap.buffers >= 1; }));
    CHECK(adapter.current_plan() == "passthrough");

    // The codec changes (a re-INVITE to PCMU): the adapter decodes.
    g_object_set(src, "caps", mulaw, nullptr);
    CHECK(push(160, 1) == GST_FLOW_OK);
    CHECK(push(160, 2) == GST_FLOW_OK);
    CHECK(wait_for([&] { return tap.buffers >= 3; }));
    CHECK(adapter.current_plan() == "mulawdec ! audioconvert ! audioresample");
    CHECK(tap.last_caps().find("rate=(int)8000") != std::string::npos);

    // And back: passthrough again.
    g_object_set(src, "caps", narrow, nullptr);
    CHECK(push(320, 3) == GST_FLOW_OK);
    CHECK(wait_for([&] { return tap.buffers >= 4; }));
    CHECK(adapter.current_plan() == "passthrough");

    gst_element_set_state(pipeline, GST_STATE_NULL);
    {
        std::lock_guard lock(mutex);
        REQUIRE(reports.size() == 3);
        CHECK(reports[0] == "a.audio->b.audio: passthrough of audio/x-raw");
        CHECK(reports[1] == "a.audio->b.audio: audio/x-mulaw -> audio/x-raw needs mulawdec ! audioconvert ! "
                            "audioresample");
        CHECK(reports[2] == "a.audio->b.audio: passthrough of audio/x-raw");
    }
    gst_caps_unref(narrow);
    gst_caps_unref(mulaw);
    gst_object_unref(pipeline);
}

TEST_CASE("a gateway run: passthrough where caps match, converters where they do not")
{
    auto r = unit::check(R"(
[gateway]
name = "unit-graph"
max_duration = 20          # a safety net: the sources end by themselves

[node.wide]
plugin = "test-source"     # 48 kHz
buffers = 25

[node.wide2]
plugin = "test-source"
buffers = 25

[node.narrow]
plugin = "test-source"
rate = 8000
buffers = 25

[node.hifi]
plugin = "test-sink"       # any raw audio
path = "unused"
inputs = { audio = "wide.audio" }

[node.phone]
plugin = "test-sink-8k"    # 8 kHz mono S16LE only
inputs = { audio = "wide2.audio" }

[node.phone2]
plugin = "test-sink-8k"
inputs = { audio = "narrow.audio" }
)");
    REQUIRE_MESSAGE(r.graph, r.errors);
    mediagw::Gateway gateway(std::move(*r.graph));
    std::string error;
    REQUIRE_MESSAGE(gateway.build(error), error);

    Tap hifi, phone, phone2;
    for (auto [node, tap] : {std::pair{"hifi", &hifi}, {"phone", &phone}, {"phone2", &phone2}}) {
        GstPad *pad = fakesink_pad(gateway.pipeline(), node);
        tap->attach(pad);
        gst_object_unref(pad);
    }
    CHECK(gateway.links().size() == 3);
    for (auto &l : gateway.links())
        CHECK(l->current_plan() == ""); // nothing flowed yet

    CHECK(gateway.run() == 0);

    std::map<std::string, std::string> plans; // upstream node -> plan
    for (auto &l : gateway.links())
        plans[upstream_node(*l)] = l->current_plan();
    CHECK(plans.size() == 3);
    CHECK(plans["wide"] == "passthrough");
    CHECK(plans["wide2"] == "audioconvert ! audioresample");
    CHECK(plans["narrow"] == "passthrough");

    // Every buffer arrived (the resampler may regroup samples, not lose them).
    CHECK(hifi.buffers == 25);
    CHECK(phone.buffers >= 24);
    CHECK(phone2.buffers == 25);
    CHECK(hifi.last_caps().find("rate=(int)48000") != std::string::npos);
    CHECK(phone.last_caps().find("rate=(int)8000") != std::string::npos);
}

// An adapter between appsrc-free pads: events are sent to its sink pad by
// hand, as a streaming thread would.
struct LoneAdapter {
    std::unique_ptr<mediagw::LinkAdapter> adapter;
    GstElement *pipeline = gst_pipeline_new(nullptr);
    GstElement *filter = gst_element_factory_make("capsfilter", nullptr); // raw only: mu-law needs a decoder
    GstElement *sink = gst_element_factory_make("fakesink", nullptr);
    std::atomic<bool> eos_in = false; // seen on the adapter's own sink pad

    LoneAdapter()
    {
        std::string error;
        adapter = mediagw::LinkAdapter::create("x.audio->y.audio", MGW_MEDIA_AUDIO, [](bool, const std::string &) {},
                                               error);
        REQUIRE_MESSAGE(adapter, error);
        REQUIRE((filter && sink));
        GstCaps *raw = gst_caps_from_string("audio/x-raw, format=S16LE, rate=8000, channels=1, layout=interleaved");
        g_object_set(filter, "caps", raw, nullptr);
        gst_caps_unref(raw);
        g_object_set(sink, "sync", FALSE, "async", FALSE, nullptr);
        gst_bin_add_many(GST_BIN(pipeline), adapter->element(), filter, sink, nullptr);
        REQUIRE(gst_element_link(filter, sink));
        GstPad *in = gst_element_get_static_pad(filter, "sink");
        REQUIRE(gst_pad_link(adapter->src(), in) == GST_PAD_LINK_OK);
        gst_object_unref(in);
        gst_pad_add_probe(
            adapter->sink(), GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM,
            [](GstPad *, GstPadProbeInfo *info, gpointer self) {
                if (GST_EVENT_TYPE(GST_PAD_PROBE_INFO_EVENT(info)) == GST_EVENT_EOS)
                    static_cast<LoneAdapter *>(self)->eos_in = true;
                return GST_PAD_PROBE_OK;
            },
            this, nullptr);
        gst_element_set_state(pipeline, GST_STATE_PLAYING);
    }
    ~LoneAdapter()
    {
        gst_element_set_state(pipeline, GST_STATE_NULL);
        gst_object_unref(pipeline);
    }
    bool sink_got_eos()
    {
        GstPad *in = gst_element_get_static_pad(sink, "sink");
        bool eos = GST_PAD_IS_EOS(in);
        gst_object_unref(in);
        return eos;
    }
};

TEST_CASE("an idle link drains through its own sink pad")
{
    LoneAdapter l;
    l.adapter->drain_if_idle();
    CHECK(l.eos_in);
    CHECK(l.sink_got_eos());
}

// The drain runs on the main loop while the first caps may arrive on a
// streaming thread and swap the chain inside (install()): the drain must not
// read that chain. Many rounds to give the race its chance.
TEST_CASE("a link's drain and its first re-plan on another thread")
{
    for (int round = 0; round < 100; ++round) {
        LoneAdapter l;
        std::thread streaming([&] {
            GstSegment segment;
            gst_segment_init(&segment, GST_FORMAT_TIME);
            gst_pad_send_event(l.adapter->sink(), gst_event_new_stream_start("race"));
            GstCaps *caps = gst_caps_from_string("audio/x-mulaw, rate=8000, channels=1");
            gst_pad_send_event(l.adapter->sink(), gst_event_new_caps(caps));
            gst_caps_unref(caps);
            gst_pad_send_event(l.adapter->sink(), gst_event_new_segment(&segment));
        });
        l.adapter->drain_if_idle();
        streaming.join();
        const std::string plan = l.adapter->current_plan();
        CHECK((plan == "" || plan == "passthrough" || plan.find("mulawdec") == 0));
    }
}
