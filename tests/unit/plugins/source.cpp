// test-source: a fixed number of 20 ms S16LE buffers, then EOS (not live).
#include <mediagw/node.hpp>

namespace {

constexpr mgw_property_spec properties[] = {
    mediagw::prop::integer("rate", "48000", "sample rate in Hz"),
    mediagw::prop::integer("channels", "1", "channel count"),
    mediagw::prop::integer("buffers", "10", "buffers to send before EOS"),
};

constexpr mgw_port_spec ports[] = {
    mediagw::port::output("audio", mediagw::port::audio, "audio/x-raw", "a tone"),
};

class Source : public mediagw::Node {
public:
    explicit Source(const mgw_node_init *init) : Node(init)
    {
        GstElement *src = gst_element_factory_make("audiotestsrc", nullptr);
        GstElement *filter = gst_element_factory_make("capsfilter", nullptr);
        if (!src || !filter)
            throw mediagw::Error("audiotestsrc/capsfilter missing");
        const int rate = static_cast<int>(integer("rate"));
        g_object_set(src, "is-live", FALSE, "num-buffers", static_cast<int>(integer("buffers")), "samplesperbuffer",
                     rate / 50, nullptr);
        GstCaps *caps = gst_caps_new_simple("audio/x-raw", "format", G_TYPE_STRING, "S16LE", "rate", G_TYPE_INT, rate,
                                            "channels", G_TYPE_INT, static_cast<int>(integer("channels")), nullptr);
        g_object_set(filter, "caps", caps, nullptr);
        gst_caps_unref(caps);
        gst_bin_add_many(bin(), src, filter, nullptr);
        gst_element_link(src, filter);
        GstPad *out = gst_element_get_static_pad(filter, "src");
        gst_ghost_pad_set_target(GST_GHOST_PAD(add_output("audio")), out);
        gst_object_unref(out);
    }
};

} // namespace

MEDIAGW_PLUGIN_VALUES(Source, "test-source", "1.0", "Test audio source", nullptr, "ready,call.established", "room,pin,header.*", properties,
               ports);
