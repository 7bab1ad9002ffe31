// Audio sinks for the unit tests: the port's caps in a capsfilter, then a
// fakesink named "fakesink" (tests probe it to count what arrived).
#pragma once

#include <mediagw/node.hpp>

namespace testplugin {

template <const mgw_port_spec *Port> class Sink : public mediagw::Node {
public:
    explicit Sink(const mgw_node_init *init) : Node(init)
    {
        GstElement *filter = gst_element_factory_make("capsfilter", nullptr);
        GstElement *sink = gst_element_factory_make("fakesink", "fakesink");
        if (!filter || !sink)
            throw mediagw::Error("capsfilter/fakesink missing");
        GstCaps *caps = gst_caps_from_string(Port->caps);
        g_object_set(filter, "caps", caps, nullptr);
        gst_caps_unref(caps);
        g_object_set(sink, "sync", FALSE, "async", FALSE, nullptr);
        gst_bin_add_many(bin(), filter, sink, nullptr);
        gst_element_link(filter, sink);
        GstPad *in = gst_element_get_static_pad(filter, "sink");
        gst_ghost_pad_set_target(GST_GHOST_PAD(add_input(Port->name)), in);
        gst_object_unref(in);
    }
};

} // namespace testplugin
