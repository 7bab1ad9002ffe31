// counter-sink: swallows media and counts it (buffers, bytes, last caps,
// video size). The counts are logged at stop and written as JSON to `report`
// when the node goes away, so a test can assert that frames really arrived.
#include <mediagw/node.hpp>

#include <atomic>
#include <cstdio>
#include <mutex>

namespace {

constexpr mgw_property_spec properties[] = {
    mediagw::prop::string("report", "", "JSON file to write the counts to when the gateway ends; empty = none"),
    mediagw::prop::boolean("sync", "false", "consume in real time (true) or as fast as media arrives"),
};

constexpr mgw_port_spec ports[] = {
    mediagw::port::input("audio", mediagw::port::audio, "ANY", "audio to count"),
    mediagw::port::input("video", mediagw::port::video, "ANY", "video to count"),
};

struct Counter {
    std::atomic<uint64_t> buffers{0}, bytes{0};
    std::mutex mutex;
    std::string caps;
    int width = 0, height = 0;
};

class CounterSink : public mediagw::Node {
public:
    explicit CounterSink(const mgw_node_init *init) : Node(init)
    {
        attach("audio", audio_);
        attach("video", video_);
    }

    ~CounterSink() override
    {
        std::string path = str("report");
        if (path.empty())
            return;
        if (FILE *f = std::fopen(path.c_str(), "w")) {
            std::fprintf(f, "{\n%s,\n%s\n}\n", json("audio", audio_).c_str(), json("video", video_).c_str());
            std::fclose(f);
        } else {
            log(MGW_LOG_ERROR, "cannot write %s", path.c_str());
        }
    }

    void stop() override
    {
        log(MGW_LOG_INFO, "audio: %llu buffers, %llu bytes; video: %llu buffers (%dx%d)",
            (unsigned long long)audio_.buffers, (unsigned long long)audio_.bytes,
            (unsigned long long)video_.buffers, video_.width, video_.height);
        stopped();
    }

private:
    void attach(const char *port, Counter &counter)
    {
        GstElement *sink = gst_element_factory_make("fakesink", nullptr);
        if (!sink)
            throw mediagw::Error("GStreamer element fakesink is missing");
        g_object_set(sink, "sync", boolean("sync"), "async", FALSE, nullptr);
        gst_bin_add(bin(), sink);
        GstPad *pad = gst_element_get_static_pad(sink, "sink");
        gst_pad_add_probe(pad, GstPadProbeType(GST_PAD_PROBE_TYPE_BUFFER | GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM),
                          on_probe, &counter, nullptr);
        gst_ghost_pad_set_target(GST_GHOST_PAD(add_input(port)), pad);
        gst_object_unref(pad);
    }

    static GstPadProbeReturn on_probe(GstPad *, GstPadProbeInfo *info, gpointer data)
    {
        auto c = static_cast<Counter *>(data);
        if (GST_PAD_PROBE_INFO_TYPE(info) & GST_PAD_PROBE_TYPE_BUFFER) {
            c->buffers++;
            c->bytes += gst_buffer_get_size(GST_PAD_PROBE_INFO_BUFFER(info));
        } else if (GST_EVENT_TYPE(GST_PAD_PROBE_INFO_EVENT(info)) == GST_EVENT_CAPS) {
            GstCaps *caps;
            gst_event_parse_caps(GST_PAD_PROBE_INFO_EVENT(info), &caps);
            gchar *text = gst_caps_to_string(caps);
            std::lock_guard lock(c->mutex);
            c->caps = text;
            g_free(text);
            const GstStructure *s = gst_caps_get_structure(caps, 0);
            gst_structure_get_int(s, "width", &c->width);
            gst_structure_get_int(s, "height", &c->height);
        }
        return GST_PAD_PROBE_OK;
    }

    static std::string json(const char *name, Counter &c)
    {
        std::lock_guard lock(c.mutex);
        std::string caps;
        for (char ch : c.caps) // caps strings hold quotes and backslashes
            caps += (ch == '"' || ch == '\\') ? std::string("\\") + ch : std::string(1, ch);
        char buf[256];
        std::snprintf(buf, sizeof buf, "  \"%s\": {\"buffers\": %llu, \"bytes\": %llu, \"width\": %d, \"height\": %d, ",
                      name, (unsigned long long)c.buffers, (unsigned long long)c.bytes, c.width, c.height);
        return buf + std::string("\"caps\": \"") + caps + "\"}";
    }

    Counter audio_, video_;
};

} // namespace

MEDIAGW_PLUGIN(CounterSink, "counter-sink", "0.1.0", "Sink that counts buffers and frames (for tests)", nullptr,
               nullptr, properties, ports);
