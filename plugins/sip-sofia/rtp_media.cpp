#include "rtp_media.hpp"

#include <cstring>

namespace sipsofia {

namespace {

GSocket *bind_udp(const std::string &address, int port, GError **err)
{
    GInetAddress *ia = g_inet_address_new_from_string(address.c_str());
    if (!ia) {
        g_set_error(err, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT, "'%s' is not an IP address", address.c_str());
        return nullptr;
    }
    GSocket *s = g_socket_new(g_inet_address_get_family(ia), G_SOCKET_TYPE_DATAGRAM, G_SOCKET_PROTOCOL_UDP, err);
    if (s) {
        GSocketAddress *sa = g_inet_socket_address_new(ia, static_cast<guint16>(port));
        if (!g_socket_bind(s, sa, FALSE, err)) {
            g_object_unref(s);
            s = nullptr;
        }
        g_object_unref(sa);
    }
    g_object_unref(ia);
    return s;
}

int local_port(GSocket *s)
{
    GSocketAddress *sa = g_socket_get_local_address(s, nullptr);
    int port = sa ? g_inet_socket_address_get_port(G_INET_SOCKET_ADDRESS(sa)) : 0;
    if (sa)
        g_object_unref(sa);
    return port;
}

void close_socket(GSocket *&s)
{
    if (!s)
        return;
    g_socket_close(s, nullptr);
    g_object_unref(s);
    s = nullptr;
}

} // namespace

RtpMedia::RtpMedia(GstBin *bin, InputRouter route_input, GstPad *output)
    : bin_(bin), route_input_(std::move(route_input)), output_(output)
{
}

RtpMedia::~RtpMedia()
{
    stop();
    close();
}

bool RtpMedia::open(const std::string &address, std::string &error)
{
    close();
    // RTP wants an even port and RTCP the next one (RFC 3550 section 11).
    for (int attempt = 0; attempt < 50; ++attempt) {
        GError *err = nullptr;
        GSocket *rtp = bind_udp(address, 0, &err);
        if (!rtp) {
            error = std::string("cannot bind an RTP socket on ") + address + ": " + err->message;
            g_error_free(err);
            return false;
        }
        int port = local_port(rtp);
        if (port % 2 != 0 || port >= 65535) {
            close_socket(rtp);
            continue;
        }
        GSocket *rtcp = bind_udp(address, port + 1, nullptr);
        if (!rtcp) {
            close_socket(rtp);
            continue;
        }
        rtp_socket_ = rtp;
        rtcp_socket_ = rtcp;
        port_ = port;
        return true;
    }
    error = "no free even/odd UDP port pair on " + address;
    return false;
}

void RtpMedia::close()
{
    close_socket(rtp_socket_);
    close_socket(rtcp_socket_);
    port_ = 0;
}

GstElement *RtpMedia::add(const char *factory, std::string &error)
{
    GstElement *e = gst_element_factory_make(factory, nullptr);
    if (!e) {
        error = std::string("GStreamer element '") + factory + "' is missing";
        return nullptr;
    }
    gst_bin_add(bin_, e);
    elements_.push_back(e);
    return e;
}

GstCaps *RtpMedia::rtp_caps() const
{
    return gst_caps_new_simple("application/x-rtp", "media", G_TYPE_STRING, "audio", "clock-rate", G_TYPE_INT,
                               codec_.clock_rate, "encoding-name", G_TYPE_STRING, codec_.name.c_str(), "payload",
                               G_TYPE_INT, codec_.payload_type, nullptr);
}

bool RtpMedia::start(const Codec &codec, const RemoteMedia &remote, std::string &error)
{
    if (!is_open()) {
        error = "RTP sockets are not open";
        return false;
    }
    stop();
    codec_ = codec;
    remote_ = remote;
    const bool pcmu = codec.name == "PCMU";

    // Added downstream first: start() and stop() walk elements_ in this order.
    GstElement *rtp_sink = add("udpsink", error);
    GstElement *rtcp_sink = rtp_sink ? add("udpsink", error) : nullptr;
    GstElement *pay = rtcp_sink ? add(pcmu ? "rtppcmupay" : "rtppcmapay", error) : nullptr;
    GstElement *rtpbin = pay ? add("rtpbin", error) : nullptr;
    GstElement *depay = rtpbin ? add(pcmu ? "rtppcmudepay" : "rtppcmadepay", error) : nullptr;
    GstElement *rtp_src = depay ? add("udpsrc", error) : nullptr;
    GstElement *rtcp_src = rtp_src ? add("udpsrc", error) : nullptr;
    if (!rtcp_src) {
        stop();
        return false;
    }
    depay_ = depay;

    g_object_set(rtpbin, "latency", 100u, nullptr);
    GstCaps *caps = rtp_caps();
    g_object_set(rtp_src, "socket", rtp_socket_, "close-socket", FALSE, "caps", caps, nullptr);
    gst_caps_unref(caps);
    caps = gst_caps_new_empty_simple("application/x-rtcp");
    g_object_set(rtcp_src, "socket", rtcp_socket_, "close-socket", FALSE, "caps", caps, nullptr);
    gst_caps_unref(caps);
    // async=false: a sink added to a playing pipeline must not ask for preroll.
    g_object_set(rtp_sink, "socket", rtp_socket_, "close-socket", FALSE, "host", remote.address.c_str(), "port",
                 remote.rtp_port, "async", FALSE, nullptr);
    g_object_set(rtcp_sink, "socket", rtcp_socket_, "close-socket", FALSE, "host", remote.address.c_str(), "port",
                 remote.rtcp_port, "async", FALSE, "sync", FALSE, nullptr);
    const gint64 ptime = static_cast<gint64>(codec.ptime_ms) * GST_MSECOND;
    g_object_set(pay, "pt", static_cast<guint>(codec.payload_type), "min-ptime", ptime, "max-ptime", ptime, nullptr);

    g_signal_connect(rtpbin, "request-pt-map", G_CALLBACK(on_request_pt_map), this);
    g_signal_connect(rtpbin, "pad-added", G_CALLBACK(on_pad_added), this);

    // Linking by name requests rtpbin's session pads.
    bool ok = gst_element_link_pads(rtp_src, "src", rtpbin, "recv_rtp_sink_0") &&
              gst_element_link_pads(rtcp_src, "src", rtpbin, "recv_rtcp_sink_0") &&
              gst_element_link_pads(pay, "src", rtpbin, "send_rtp_sink_0") &&
              gst_element_link_pads(rtpbin, "send_rtp_src_0", rtp_sink, "sink") &&
              gst_element_link_pads(rtpbin, "send_rtcp_src_0", rtcp_sink, "sink");
    if (!ok) {
        error = "cannot link the RTP elements";
        stop();
        return false;
    }
    GstPad *rtp_out = gst_element_get_static_pad(rtp_src, "src");
    gst_pad_add_probe(rtp_out, GST_PAD_PROBE_TYPE_BUFFER, on_rtp, this, nullptr);
    gst_object_unref(rtp_out);
    last_rtp_ = g_get_monotonic_time();

    // The input first: when media arrives, the core's link adapter plans its
    // conversion against what the payloader takes (pure passthrough when the
    // same codec loops back).
    GstPad *pay_sink = gst_element_get_static_pad(pay, "sink");
    GstPad *depay_src = gst_element_get_static_pad(depay, "src");
    route_input_(pay_sink);
    gst_ghost_pad_set_target(GST_GHOST_PAD(output_), depay_src);
    gst_object_unref(pay_sink);
    gst_object_unref(depay_src);

    // Downstream first, so nothing pushes into an element that is not ready.
    for (GstElement *e : elements_)
        if (!gst_element_sync_state_with_parent(e)) {
            error = std::string("cannot start ") + GST_ELEMENT_NAME(e);
            stop();
            return false;
        }
    return true;
}

void RtpMedia::stop()
{
    if (elements_.empty())
        return;
    // Park the input first: a live source feeding it (a tone, a room) keeps
    // streaming into the parking sink instead of meeting FLUSHING and
    // pausing for good. Then sinks first: their clock waits end, so every
    // streaming thread of the chain gets FLUSHING (not an error) and stops.
    route_input_(nullptr);
    for (GstElement *e : elements_)
        gst_element_set_state(e, GST_STATE_NULL);
    gst_ghost_pad_set_target(GST_GHOST_PAD(output_), nullptr);
    for (GstElement *e : elements_)
        gst_bin_remove(bin_, e); // the bin held the only reference
    elements_.clear();
    depay_ = nullptr;
}

// rtpbin's streaming thread: GStreamer work only.
void RtpMedia::on_pad_added(GstElement *, GstPad *pad, gpointer data)
{
    auto self = static_cast<RtpMedia *>(data);
    gchar *name = gst_pad_get_name(pad);
    // recv_rtp_src_<session>_<ssrc>_<pt>: a new pad per sender SSRC; the
    // newest sender wins (a phone that restarts its stream changes SSRC).
    const bool recv = g_str_has_prefix(name, "recv_rtp_src_0_");
    g_free(name);
    if (!recv || !self->depay_)
        return;
    GstPad *sink = gst_element_get_static_pad(self->depay_, "sink");
    if (GstPad *old = gst_pad_get_peer(sink)) {
        gst_pad_unlink(old, sink);
        gst_object_unref(old);
    }
    gst_pad_link(pad, sink);
    gst_object_unref(sink);
}

GstCaps *RtpMedia::on_request_pt_map(GstElement *, guint, guint pt, gpointer data)
{
    auto self = static_cast<RtpMedia *>(data);
    if (static_cast<int>(pt) != self->codec_.payload_type)
        return nullptr; // not negotiated: rtpbin drops it
    return self->rtp_caps();
}

GstPadProbeReturn RtpMedia::on_rtp(GstPad *, GstPadProbeInfo *, gpointer data)
{
    static_cast<RtpMedia *>(data)->last_rtp_ = g_get_monotonic_time();
    return GST_PAD_PROBE_OK;
}

} // namespace sipsofia
