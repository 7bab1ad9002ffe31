// test-pattern: a video test source (moving patterns), for tests and demos.
#include <mediagw/node.hpp>

namespace {

constexpr mgw_property_spec properties[] = {
    mediagw::prop::string("pattern", "smpte", "videotestsrc pattern: smpte, ball, snow, black, ..."),
    mediagw::prop::integer("width", "640", "frame width in pixels"),
    mediagw::prop::integer("height", "360", "frame height in pixels"),
    mediagw::prop::integer("framerate", "25", "frames per second"),
    mediagw::prop::number("duration", "0", "seconds of video, then end of stream; 0 = until stopped"),
    mediagw::prop::boolean("live", "true", "pace output in real time (as a camera would)"),
    mediagw::prop::boolean("clock", "true", "draw the running time into the picture"),
};

constexpr mgw_port_spec ports[] = {
    mediagw::port::output("video", mediagw::port::video, "video/x-raw", "the generated pictures (I420)"),
};

class TestPattern : public mediagw::Node {
public:
    explicit TestPattern(const mgw_node_init *init) : Node(init)
    {
        GstElement *src = gst_element_factory_make("videotestsrc", "source");
        GstElement *caps = gst_element_factory_make("capsfilter", nullptr);
        if (!src || !caps)
            throw mediagw::Error("GStreamer elements videotestsrc/capsfilter are missing");
        GEnumClass *patterns = G_ENUM_CLASS(g_type_class_ref(
            G_PARAM_SPEC_VALUE_TYPE(g_object_class_find_property(G_OBJECT_GET_CLASS(src), "pattern"))));
        bool known = g_enum_get_value_by_nick(patterns, str("pattern").c_str()) != nullptr;
        g_type_class_unref(patterns);
        if (!known) {
            gst_object_unref(src);
            gst_object_unref(caps);
            throw mediagw::Error("unknown pattern '" + str("pattern") + "' (see gst-inspect-1.0 videotestsrc)");
        }
        gst_util_set_object_arg(G_OBJECT(src), "pattern", str("pattern").c_str());
        const int fps = static_cast<int>(integer("framerate"));
        g_object_set(src, "is-live", boolean("live"), nullptr);
        if (double d = number("duration"); d > 0)
            g_object_set(src, "num-buffers", static_cast<int>(d * fps + 0.5), nullptr);
        GstCaps *c = gst_caps_new_simple("video/x-raw", "format", G_TYPE_STRING, "I420", "width", G_TYPE_INT,
                                         static_cast<int>(integer("width")), "height", G_TYPE_INT,
                                         static_cast<int>(integer("height")), "framerate", GST_TYPE_FRACTION, fps, 1,
                                         nullptr);
        g_object_set(caps, "caps", c, nullptr);
        gst_caps_unref(c);
        gst_bin_add_many(bin(), src, caps, nullptr);
        GstElement *last = caps;
        gst_element_link(src, caps);
        if (boolean("clock")) {
            GstElement *overlay = gst_element_factory_make("timeoverlay", nullptr);
            if (overlay) { // gst-plugins-base pango; optional
                gst_bin_add(bin(), overlay);
                gst_element_link(caps, overlay);
                last = overlay;
            }
        }
        GstPad *out = gst_element_get_static_pad(last, "src");
        gst_ghost_pad_set_target(GST_GHOST_PAD(add_output("video")), out);
        gst_object_unref(out);
    }
};

} // namespace

MEDIAGW_PLUGIN(TestPattern, "test-pattern", "0.1.0", "Video test source: moving test patterns", nullptr, nullptr,
               properties, ports);
