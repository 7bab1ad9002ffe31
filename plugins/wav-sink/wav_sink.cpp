// wav-sink: records audio to a WAV file; the file is complete after EOS,
// which the gateway's drain guarantees on a clean stop.
#include <mediagw/node.hpp>

namespace {

constexpr mgw_property_spec properties[] = {
    mediagw::prop::string("path", nullptr, "the WAV file to write", mediagw::prop::required),
};

constexpr mgw_port_spec ports[] = {
    mediagw::port::input("audio", mediagw::port::audio, "audio/x-raw", "audio to record", mediagw::port::required),
};

class WavSink : public mediagw::Node {
public:
    explicit WavSink(const mgw_node_init *init) : Node(init)
    {
        GstElement *enc = gst_element_factory_make("wavenc", nullptr);
        GstElement *sink = gst_element_factory_make("filesink", nullptr);
        if (!enc || !sink)
            throw mediagw::Error("GStreamer elements wavenc/filesink are missing");
        g_object_set(sink, "location", str("path").c_str(), "async", FALSE, nullptr);
        gst_bin_add_many(bin(), enc, sink, nullptr);
        gst_element_link(enc, sink);
        GstPad *in = gst_element_get_static_pad(enc, "sink");
        gst_ghost_pad_set_target(GST_GHOST_PAD(add_input("audio")), in);
        gst_object_unref(in);
    }
};

} // namespace

MEDIAGW_PLUGIN(WavSink, "wav-sink", "0.1.0", "Records audio to a WAV file", nullptr, nullptr, properties, ports);
