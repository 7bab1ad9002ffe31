// tone: a sine (or other waveform) audio source, for tests and demos.
#include <mediagw/node.hpp>

namespace {

constexpr mgw_property_spec properties[] = {
    mediagw::prop::number("frequency", "440", "tone frequency in Hz"),
    mediagw::prop::number("volume", "0.5", "amplitude, 0 to 1"),
    mediagw::prop::integer("rate", "48000", "sample rate in Hz"),
    mediagw::prop::integer("channels", "1", "channel count"),
    mediagw::prop::choice("wave", "sine|square|saw|triangle|silence|white-noise", "sine", "waveform"),
    mediagw::prop::number("duration", "0", "seconds of audio, then end of stream; 0 = until stopped"),
    mediagw::prop::boolean("live", "true", "pace output in real time (as a microphone would)"),
};

constexpr mgw_port_spec ports[] = {
    mediagw::port::output("audio", mediagw::port::audio, "audio/x-raw", "the generated tone"),
};

class Tone : public mediagw::Node {
public:
    explicit Tone(const mgw_node_init *init) : Node(init)
    {
        GstElement *src = gst_element_factory_make("audiotestsrc", "source");
        GstElement *caps = gst_element_factory_make("capsfilter", nullptr);
        if (!src || !caps)
            throw mediagw::Error("GStreamer elements audiotestsrc/capsfilter are missing");
        gst_util_set_object_arg(G_OBJECT(src), "wave", str("wave").c_str());
        const int rate = static_cast<int>(integer("rate"));
        const int samples_per_buffer = rate / 50; // 20 ms, like RTP
        g_object_set(src, "freq", number("frequency"), "volume", number("volume"), "is-live", boolean("live"),
                     "samplesperbuffer", samples_per_buffer, nullptr);
        if (double d = number("duration"); d > 0)
            g_object_set(src, "num-buffers", static_cast<int>(d * 50 + 0.5), nullptr);
        GstCaps *c = gst_caps_new_simple("audio/x-raw", "format", G_TYPE_STRING, "S16LE", "rate", G_TYPE_INT, rate,
                                         "channels", G_TYPE_INT, static_cast<int>(integer("channels")), nullptr);
        g_object_set(caps, "caps", c, nullptr);
        gst_caps_unref(c);
        gst_bin_add_many(bin(), src, caps, nullptr);
        gst_element_link(src, caps);
        GstPad *out = gst_element_get_static_pad(caps, "src");
        gst_ghost_pad_set_target(GST_GHOST_PAD(add_output("audio")), out);
        gst_object_unref(out);
    }
};

} // namespace

MEDIAGW_PLUGIN(Tone, "tone", "0.1.0", "Audio test source: a tone of a given frequency", nullptr, nullptr,
               properties, ports);
