#include "media/send_entry.hpp"

namespace sipsofia {

namespace {

GstElement *add_identity(GstBin *bin, const char *role, std::vector<GstElement *> &side, std::string &error)
{
    GstElement *e = gst_element_factory_make("identity", nullptr);
    if (!e) {
        error = std::string("GStreamer element 'identity' is missing (the send side's ") + role + ")";
        return nullptr;
    }
    gst_bin_add(bin, e);
    side.push_back(e);
    return e;
}

} // namespace

SendEntry::~SendEntry() { forget(); }

bool SendEntry::build(GstBin *bin, GstElement *pay, const GstCaps *rtp_caps, guint clock_rate, GstPad *input,
                      std::vector<GstElement *> &side, std::string &error)
{
    forget();
    // Start order is downstream first: exit before the payloader's upstream.
    exit_ = add_identity(bin, "exit", side, error);
    entry_ = exit_ ? add_identity(bin, "entry", side, error) : nullptr;
    if (!entry_)
        return false;
    pay_ = pay;
    if (!gst_element_link_many(entry_, pay, exit_, nullptr)) {
        error = "cannot link the payloader of the send side";
        return false;
    }
    const GstStructure *s = gst_caps_get_structure(rtp_caps, 0);
    gint pt = 0;
    gst_structure_get_int(s, "payload", &pt);
    const guint32 ssrc = g_random_int();
    rtp_caps_ = gst_caps_copy(rtp_caps);
    gst_caps_set_simple(rtp_caps_, "ssrc", G_TYPE_UINT, ssrc, nullptr);
    rewrite_ = new mgwrtp::RtpForward(rtp_caps_, static_cast<guint8>(pt), ssrc, clock_rate);
    rtp_any_ = rewrite_->incoming_caps();
    GstPad *exit_sink = gst_element_get_static_pad(exit_, "sink");
    mgwrtp::RtpForward::attach(exit_sink, rewrite_);
    gst_object_unref(exit_sink);
    // The path is chosen as the caps reach the entry (the identity checks
    // and sets them against what is linked after it); its queries are
    // answered for both paths.
    GstPad *sink = gst_element_get_static_pad(entry_, "sink");
    gst_pad_add_probe(sink,
                      static_cast<GstPadProbeType>(GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM |
                                                   GST_PAD_PROBE_TYPE_QUERY_DOWNSTREAM),
                      on_entry_sink, this, nullptr);
    gst_object_unref(sink);
    rtp_allowed_ = input != nullptr;
    if (input) {
        input_ = GST_PAD(gst_object_ref(input));
        input_probe_ = gst_pad_add_probe(input_, GST_PAD_PROBE_TYPE_QUERY_DOWNSTREAM, on_input_query, this, nullptr);
    }
    return true;
}

void SendEntry::forget_input()
{
    if (input_probe_)
        gst_pad_remove_probe(input_, input_probe_);
    input_probe_ = 0;
    gst_clear_object(&input_);
}

void SendEntry::forget()
{
    forget_input();
    // The elements are stopped by now (or never ran): no streaming thread
    // uses what follows.
    entry_ = pay_ = exit_ = nullptr;
    rewrite_ = nullptr;
    gst_clear_caps(&rtp_caps_);
    gst_clear_caps(&rtp_any_);
    forwarding_ = false;
    rtp_allowed_ = false;
}

GstCaps *SendEntry::takes(GstCaps *filter) const
{
    GstPad *pay_sink = gst_element_get_static_pad(pay_, "sink");
    GstCaps *caps = gst_caps_make_writable(gst_pad_query_caps(pay_sink, nullptr));
    gst_object_unref(pay_sink);
    if (rtp_allowed_)
        gst_caps_append(caps, gst_caps_copy(rtp_any_));
    if (filter) {
        GstCaps *both = gst_caps_intersect_full(filter, caps, GST_CAPS_INTERSECT_FIRST);
        gst_caps_unref(caps);
        caps = both;
    }
    return caps;
}

// Any thread that asks the node's input port what it takes.
GstPadProbeReturn SendEntry::on_input_query(GstPad *, GstPadProbeInfo *info, gpointer data)
{
    auto self = static_cast<SendEntry *>(data);
    GstQuery *query = GST_PAD_PROBE_INFO_QUERY(info);
    if (GST_QUERY_TYPE(query) == GST_QUERY_CAPS) {
        GstCaps *filter = nullptr;
        gst_query_parse_caps(query, &filter);
        GstCaps *caps = self->takes(filter);
        gst_query_set_caps_result(query, caps);
        gst_caps_unref(caps);
        return GST_PAD_PROBE_HANDLED;
    }
    if (GST_QUERY_TYPE(query) == GST_QUERY_ACCEPT_CAPS) {
        GstCaps *offered = nullptr;
        gst_query_parse_accept_caps(query, &offered);
        GstCaps *caps = self->takes(nullptr);
        gst_query_set_accept_caps_result(query, gst_caps_can_intersect(offered, caps));
        gst_caps_unref(caps);
        return GST_PAD_PROBE_HANDLED;
    }
    return GST_PAD_PROBE_OK;
}

// The input's streaming thread. Nothing flows on the path not taken (the
// payloader stays idle while RTP goes around it), so relinking here, before
// the caps go on, is safe.
void SendEntry::choose_path(GstPad *entry_src, bool rtp)
{
    GstPad *pay_sink = gst_element_get_static_pad(pay_, "sink");
    GstPad *pay_src = gst_element_get_static_pad(pay_, "src");
    GstPad *exit_sink = gst_element_get_static_pad(exit_, "sink");
    if (GstPad *peer = gst_pad_get_peer(entry_src)) {
        gst_pad_unlink(entry_src, peer);
        gst_object_unref(peer);
    }
    if (rtp) {
        gst_pad_unlink(pay_src, exit_sink);
        gst_pad_link(entry_src, exit_sink);
    } else {
        gst_pad_link(entry_src, pay_sink);
        gst_pad_link(pay_src, exit_sink);
    }
    forwarding_ = rtp;
    rewrite_->restart();
    GST_INFO_OBJECT(entry_src, "the send side now takes %s", rtp ? "RTP, forwarded" : "encoded media, payloaded");
    gst_object_unref(pay_sink);
    gst_object_unref(pay_src);
    gst_object_unref(exit_sink);
}

GstPadProbeReturn SendEntry::on_entry_sink(GstPad *pad, GstPadProbeInfo *info, gpointer data)
{
    auto self = static_cast<SendEntry *>(data);
    if (info->type & GST_PAD_PROBE_TYPE_QUERY_DOWNSTREAM)
        return on_input_query(pad, info, data);
    GstEvent *event = GST_PAD_PROBE_INFO_EVENT(info);
    if (GST_EVENT_TYPE(event) != GST_EVENT_CAPS)
        return GST_PAD_PROBE_OK;
    GstCaps *caps = nullptr;
    gst_event_parse_caps(event, &caps);
    const bool rtp = self->rtp_allowed_ &&
                     gst_structure_has_name(gst_caps_get_structure(caps, 0), "application/x-rtp");
    GstPad *src = gst_element_get_static_pad(self->entry_, "src");
    GstPad *peer = gst_pad_get_peer(src);
    if (rtp != self->forwarding_.load() || !peer)
        self->choose_path(src, rtp);
    if (peer)
        gst_object_unref(peer);
    gst_object_unref(src);
    return GST_PAD_PROBE_OK;
}

} // namespace sipsofia
