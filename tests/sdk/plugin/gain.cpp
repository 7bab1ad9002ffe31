// gain: amplifies or attenuates audio by a fixed number of decibels.
// A third-party plugin: it includes only the installed SDK headers.
#include <mediagw/node.hpp>

#include <cmath>
#include <string>

namespace {

constexpr double max_gain_db = 20.0; // GStreamer's volume element tops out at x10

constexpr mgw_property_spec properties[] = {
    mediagw::prop::number("gain_db", "0", "gain in dB (negative attenuates), at most +20"),
};

constexpr mgw_port_spec ports[] = {
    mediagw::port::input("audio", mediagw::port::audio, "audio/x-raw", "audio to scale", mediagw::port::required),
    mediagw::port::output("audio", mediagw::port::audio, "audio/x-raw", "the scaled audio"),
};

class Gain : public mediagw::Node {
public:
    explicit Gain(const mgw_node_init *init) : Node(init)
    {
        const double db = number("gain_db");
        if (!std::isfinite(db) || db > max_gain_db)
            throw mediagw::Error("gain_db must be a number of at most " + std::to_string(max_gain_db) + " dB");
        GstElement *convert = gst_element_factory_make("audioconvert", nullptr);
        GstElement *volume = gst_element_factory_make("volume", nullptr);
        if (!convert || !volume) {
            if (convert)
                gst_object_unref(gst_object_ref_sink(convert));
            if (volume)
                gst_object_unref(gst_object_ref_sink(volume));
            throw mediagw::Error("GStreamer elements audioconvert/volume are missing");
        }
        g_object_set(volume, "volume", std::pow(10.0, db / 20.0), nullptr);
        gst_bin_add_many(bin(), convert, volume, nullptr);
        gst_element_link(convert, volume);

        GstPad *in = gst_element_get_static_pad(convert, "sink");
        gst_ghost_pad_set_target(GST_GHOST_PAD(add_input("audio")), in);
        gst_object_unref(in);
        GstPad *out = gst_element_get_static_pad(volume, "src");
        gst_ghost_pad_set_target(GST_GHOST_PAD(add_output("audio")), out);
        gst_object_unref(out);
        log(MGW_LOG_DEBUG, "gain %.2f dB", db);
    }
};

} // namespace

MEDIAGW_PLUGIN(Gain, "gain", "1.0.0", "Scales audio by a gain in dB (out-of-tree SDK test plugin)", nullptr,
               nullptr, properties, ports);
