// gst: the escape hatch. A node whose inside is any gst-launch description;
// its ports are the elements named in_audio, in_video (inputs) and
// out_audio, out_video (outputs), e.g.
//   description = "audioconvert name=in_audio ! volume volume=0.5 ! audioconvert name=out_audio"
#include <mediagw/node.hpp>

namespace {

constexpr mgw_property_spec properties[] = {
    mediagw::prop::string("description", nullptr,
                          "gst-launch description; elements named in_audio/in_video/out_audio/out_video are the ports",
                          mediagw::prop::required),
};

constexpr mgw_port_spec ports[] = {
    mediagw::port::input("audio", mediagw::port::audio, "ANY", "sink pad of the element named in_audio"),
    mediagw::port::input("video", mediagw::port::video, "ANY", "sink pad of the element named in_video"),
    mediagw::port::output("audio", mediagw::port::audio, "ANY", "src pad of the element named out_audio"),
    mediagw::port::output("video", mediagw::port::video, "ANY", "src pad of the element named out_video"),
};

class GstNode : public mediagw::Node {
public:
    explicit GstNode(const mgw_node_init *init) : Node(init)
    {
        GError *err = nullptr;
        GstElement *inner = gst_parse_bin_from_description_full(str("description").c_str(), FALSE, nullptr,
                                                                GST_PARSE_FLAG_FATAL_ERRORS, &err);
        if (!inner) {
            std::string why = err ? err->message : "unknown error";
            g_clear_error(&err);
            throw mediagw::Error("description: " + why);
        }
        gst_bin_add(bin(), inner);
        for (const char *kind : {"audio", "video"}) {
            expose(GST_BIN(inner), std::string("in_") + kind, "sink", add_input(kind));
            expose(GST_BIN(inner), std::string("out_") + kind, "src", add_output(kind));
        }
    }

    // A linked port whose element is missing would silently carry nothing.
    bool start(std::string &error) override
    {
        for (const char *kind : {"audio", "video"}) {
            for (GstPad *pad : {input(kind), output(kind)}) {
                bool missing = linked(pad) && !gst_ghost_pad_get_target(GST_GHOST_PAD(pad));
                std::string name = GST_OBJECT_NAME(pad);
                gst_object_unref(pad);
                if (missing) {
                    error = "port pad " + name + " is linked but the description has no element named " +
                            (name.rfind("sink_", 0) == 0 ? "in_" : "out_") + kind;
                    return false;
                }
            }
        }
        return true;
    }

private:
    static void expose(GstBin *inner, const std::string &element, const char *pad_name, GstPad *ghost)
    {
        GstElement *e = gst_bin_get_by_name(inner, element.c_str());
        if (!e)
            return;
        GstPad *pad = gst_element_get_static_pad(e, pad_name);
        if (!pad)
            pad = gst_element_request_pad_simple(e, (std::string(pad_name) + "_%u").c_str()); // e.g. a mixer
        if (pad) {
            // Through the intermediate bin: ghost the element's pad on `inner` first.
            GstPad *mid = gst_ghost_pad_new(nullptr, pad);
            gst_pad_set_active(mid, TRUE);
            gst_element_add_pad(GST_ELEMENT(inner), mid);
            gst_ghost_pad_set_target(GST_GHOST_PAD(ghost), mid);
            gst_object_unref(pad);
        }
        gst_object_unref(e);
    }
};

} // namespace

MEDIAGW_PLUGIN(GstNode, "gst", "0.1.0", "Any gst-launch description as a node (the escape hatch)", nullptr, nullptr,
               properties, ports);
