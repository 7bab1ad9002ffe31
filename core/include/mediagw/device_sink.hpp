// A device sink (alsasink, v4l2sink, ...) that joins the running pipeline
// only when its node starts, after the node checked the device and can say
// precisely what is wrong. A sink present from the beginning would fail the
// pipeline's state change with GStreamer's generic "could not open device".
// Until then the node behaves like a closed device: buffers are dropped
// after `last`, so live branches upstream never stall (a node with start_on
// may wait for a call for minutes); sticky events (stream-start, caps,
// segment) stay on the pad and reach the sink when it is attached.
#pragma once

#include <gst/gst.h>

namespace mediagw {

class DeviceSink {
public:
    // `last`: the element of `bin` the sink will follow. `sink`: the device
    // sink, not in any bin yet; DeviceSink keeps a reference.
    DeviceSink(GstBin *bin, GstElement *last, GstElement *sink)
        : bin_(bin), last_(last), sink_(GST_ELEMENT(gst_object_ref_sink(sink)))
    {
        GstPad *out = gst_element_get_static_pad(last_, "src");
        probe_ = gst_pad_add_probe(out, buffers, drop, nullptr, nullptr);
        gst_object_unref(out);
    }
    ~DeviceSink() { gst_object_unref(sink_); }
    DeviceSink(const DeviceSink &) = delete;
    DeviceSink &operator=(const DeviceSink &) = delete;

    bool attached() const { return attached_; }

    // Attach the device sink; false when GStreamer refuses to start it.
    bool attach() { return connect(sink_); }

    // The device failed its check: a fakesink takes its place so that the
    // drain's end of stream passes at once.
    void attach_placeholder() { connect(gst_element_factory_make("fakesink", nullptr)); }

private:
    static constexpr auto buffers =
        static_cast<GstPadProbeType>(GST_PAD_PROBE_TYPE_BUFFER | GST_PAD_PROBE_TYPE_BUFFER_LIST);

    static GstPadProbeReturn drop(GstPad *, GstPadProbeInfo *, gpointer) { return GST_PAD_PROBE_DROP; }

    bool connect(GstElement *sink)
    {
        // async=false: a sink that prerolls while the pipeline is PLAYING
        // would make the whole pipeline lose its state.
        g_object_set(sink, "async", FALSE, nullptr);
        gst_bin_add(bin_, sink);
        // No caps check: until the core's link sees the first caps, upstream
        // still offers what the source makes; negotiation comes with the data.
        const bool ok = gst_element_link_pads_full(last_, "src", sink, "sink", GST_PAD_LINK_CHECK_NOTHING) &&
                        gst_element_sync_state_with_parent(sink);
        attached_ = true;
        GstPad *out = gst_element_get_static_pad(last_, "src");
        gst_pad_remove_probe(out, probe_);
        gst_object_unref(out);
        // Let the pipeline include the new sink's latency.
        gst_element_post_message(GST_ELEMENT(bin_), gst_message_new_latency(GST_OBJECT(bin_)));
        return ok;
    }

    GstBin *bin_;
    GstElement *last_;
    GstElement *sink_;
    gulong probe_ = 0;
    bool attached_ = false;
};

} // namespace mediagw
