// wav-sink: records audio to a WAV file; the file is complete after EOS,
// which the gateway's drain guarantees on a clean stop.
#include <mediagw/node.hpp>

namespace {

constexpr mgw_property_spec properties[] = {
    mediagw::prop::string("path", nullptr, "the WAV file to write", mediagw::prop::required),
};

constexpr mgw_port_spec ports[] = {
    mediagw::port::input("audio", mediagw::port::audio, "audio/x-raw, format=S16LE", "audio to record (stored as 16-bit PCM)", mediagw::port::required),
};

class WavSink : public mediagw::Node {
public:
    explicit WavSink(const mgw_node_init *init) : Node(init)
    {
        // 16-bit PCM whatever arrives (wavenc would also store G.711 as is,
        // which many tools cannot read): the core's link decodes/converts.
        GstElement *pcm = gst_element_factory_make("capsfilter", nullptr);
        GstElement *enc = gst_element_factory_make("wavenc", nullptr);
        GstElement *sink = gst_element_factory_make("filesink", nullptr);
        if (!pcm || !enc || !sink)
            throw mediagw::Error("GStreamer elements capsfilter/wavenc/filesink are missing");
        GstCaps *caps = gst_caps_from_string("audio/x-raw, format=S16LE");
        g_object_set(pcm, "caps", caps, nullptr);
        gst_caps_unref(caps);
        g_object_set(sink, "location", str("path").c_str(), "async", FALSE, nullptr);
        gst_bin_add_many(bin(), pcm, enc, sink, nullptr);
        gst_element_link_many(pcm, enc, sink, nullptr);
        GstPad *in = gst_element_get_static_pad(pcm, "sink");
        gst_ghost_pad_set_target(GST_GHOST_PAD(add_input("audio")), in);
        gst_object_unref(in);
    }
};

} // namespace

MEDIAGW_PLUGIN(WavSink, "wav-sink", "0.1.0", "Records audio to a WAV file", nullptr, nullptr, properties, ports);
