#include "nat/ice_transport.hpp"

namespace sipsofia {

namespace {

// nicesrc has no caps property (its pad is ANY): a probe answers its caps
// queries with the caps the RTP stream set (set_source_caps), so that it
// negotiates them when it starts, as udpsrc does with its "caps". (A
// capsfilter behind it would negotiate at its first packet, and fail when
// that comes while the chain is being torn down.)
const char *const kCapsKey = "mgw-ice-caps";

GstPadProbeReturn answer_caps_query(GstPad *pad, GstPadProbeInfo *info, gpointer)
{
    GstQuery *query = GST_PAD_PROBE_INFO_QUERY(info);
    if (GST_QUERY_TYPE(query) != GST_QUERY_CAPS)
        return GST_PAD_PROBE_OK;
    GstObject *src = gst_pad_get_parent(pad);
    auto caps = src ? static_cast<GstCaps *>(g_object_get_data(G_OBJECT(src), kCapsKey)) : nullptr;
    if (src)
        gst_object_unref(src);
    if (!caps)
        return GST_PAD_PROBE_OK;
    GstCaps *filter = nullptr;
    gst_query_parse_caps(query, &filter);
    GstCaps *result = filter ? gst_caps_intersect_full(filter, caps, GST_CAPS_INTERSECT_FIRST) : gst_caps_ref(caps);
    gst_query_set_caps_result(query, result);
    gst_caps_unref(result);
    return GST_PAD_PROBE_HANDLED;
}

GstElement *make_source(NiceAgent *agent, guint stream, guint component)
{
    GstElement *src = gst_element_factory_make("nicesrc", nullptr);
    if (!src)
        return nullptr;
    g_object_set(src, "agent", agent, "stream", stream, "component", component, nullptr);
    GstPad *pad = gst_element_get_static_pad(src, "src");
    gst_pad_add_probe(pad, GST_PAD_PROBE_TYPE_QUERY_BOTH, answer_caps_query, nullptr, nullptr);
    gst_object_unref(pad);
    return src;
}

GstElement *make_sink(NiceAgent *agent, guint stream, guint component)
{
    GstElement *sink = gst_element_factory_make("nicesink", nullptr);
    // async=false: a sink added to a playing pipeline must not ask for preroll.
    if (sink)
        g_object_set(sink, "agent", agent, "stream", stream, "component", component, "async", FALSE, nullptr);
    return sink;
}

// nicesrc's streaming thread, rtcp-mux: RTCP (second byte 192-223) goes to
// the appsrc `rtcp` instead of the RTP path.
GstPadProbeReturn divert_rtcp(GstPad *, GstPadProbeInfo *info, gpointer rtcp)
{
    GstBuffer *buf = GST_PAD_PROBE_INFO_BUFFER(info);
    guint8 head[2];
    if (gst_buffer_extract(buf, 0, head, 2) != 2 || head[1] < 192 || head[1] > 223)
        return GST_PAD_PROBE_OK;
    GstFlowReturn ret;
    g_signal_emit_by_name(rtcp, "push-buffer", buf, &ret); // takes its own reference
    return GST_PAD_PROBE_DROP;
}

void drop(GstElement *&e)
{
    if (e)
        gst_object_unref(gst_object_ref_sink(e));
    e = nullptr;
}

} // namespace

bool IceTransport::open(const std::string &address, std::string &error)
{
    if (!session_ || id_) {
        error = "ICE transport for " + label_ + " opened twice";
        return false;
    }
    id_ = session_->add_stream(label_, address, error);
    return id_ != 0;
}

void IceTransport::when_ready(std::function<void(const std::string &error)> done)
{
    if (!id_) {
        done("the ICE stream is not open");
        return;
    }
    session_->when_gathered(id_, [this, done = std::move(done)] {
        std::string ip;
        int port = 0;
        done(session_->default_candidate(id_, IceSession::kRtp, ip, port)
                 ? ""
                 : "no candidate gathered for " + label_ + " (no usable interface or relay)");
    });
}

void IceTransport::close()
{
    if (id_)
        session_->remove_stream(id_);
    id_ = 0;
    // A transport is not opened again (each open() makes a new one): the
    // session may end with the call, which gives its relays back.
    session_.reset();
}

int IceTransport::port() const
{
    std::string ip;
    int port = 0;
    return id_ && session_->default_candidate(id_, IceSession::kRtp, ip, port) ? port : 0;
}

int IceTransport::rtcp_port() const
{
    std::string ip;
    int port = 0;
    return id_ && session_->default_candidate(id_, IceSession::kRtcp, ip, port) ? port : 0;
}

std::string IceTransport::public_address() const
{
    std::string ip;
    int port = 0;
    return id_ && session_->default_candidate(id_, IceSession::kRtp, ip, port) ? ip : "";
}

void IceTransport::elements_released()
{
    if (id_)
        session_->keep_reading(id_);
}

void IceTransport::set_source_caps(GstElement *src, GstCaps *caps) const
{
    if (g_object_class_find_property(G_OBJECT_GET_CLASS(src), "caps")) {
        g_object_set(src, "caps", caps, nullptr); // the appsrc of rtcp-mux
        return;
    }
    g_object_set_data_full(G_OBJECT(src), kCapsKey, gst_caps_ref(caps),
                           reinterpret_cast<GDestroyNotify>(gst_caps_unref));
}

bool IceTransport::make_elements(const std::string &remote_address, int remote_rtp_port, int remote_rtcp_port,
                                 TransportElements &out, std::string &error)
{
    if (!id_) {
        error = "the ICE stream is not open";
        return false;
    }
    // No ICE attributes from the peer: RFC 8445 section 5.4, media to and
    // from the default candidates.
    if (!session_->has_remote(id_))
        session_->fall_back(id_, remote_address, remote_rtp_port, remote_rtcp_port);
    NiceAgent *agent = session_->agent();
    const bool mux = session_->rtcp_mux(id_);
    out = {make_source(agent, id_, IceSession::kRtp), nullptr, make_sink(agent, id_, IceSession::kRtp),
           make_sink(agent, id_, mux ? IceSession::kRtp : IceSession::kRtcp)};
    if (mux) {
        out.rtcp_src = gst_element_factory_make("appsrc", nullptr);
        if (out.rtcp_src)
            g_object_set(out.rtcp_src, "is-live", TRUE, "format", GST_FORMAT_TIME, "do-timestamp", TRUE, nullptr);
    } else {
        out.rtcp_src = make_source(agent, id_, IceSession::kRtcp);
    }
    if (!out.rtp_src || !out.rtcp_src || !out.rtp_sink || !out.rtcp_sink) {
        for (GstElement **e : {&out.rtp_src, &out.rtcp_src, &out.rtp_sink, &out.rtcp_sink})
            drop(*e);
        error = "GStreamer elements nicesrc/nicesink (gstreamer1.0-nice) or appsrc are missing";
        return false;
    }
    g_object_set(out.rtcp_sink, "sync", FALSE, nullptr);
    if (mux) {
        GstPad *pad = gst_element_get_static_pad(out.rtp_src, "src");
        gst_pad_add_probe(pad, GST_PAD_PROBE_TYPE_BUFFER, divert_rtcp, gst_object_ref(out.rtcp_src),
                          gst_object_unref);
        gst_object_unref(pad);
    }
    return true;
}

} // namespace sipsofia
