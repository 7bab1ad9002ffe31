#include "media/udp_transport.hpp"

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

bool UdpTransport::open(const std::string &address, std::string &error)
{
    close();
    return ports_.any() ? open_any(address, error) : open_in_range(address, error);
}

// RTP wants an even port and RTCP the next one (RFC 3550 section 11).
bool UdpTransport::open_any(const std::string &address, std::string &error)
{
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
        if (take_pair(rtp, address, port))
            return true;
    }
    error = "no free even/odd UDP port pair on " + address;
    return false;
}

// RTCP on the port after `rtp`'s: both kept, or `rtp` closed.
bool UdpTransport::take_pair(GSocket *rtp, const std::string &address, int port)
{
    GSocket *rtcp = bind_udp(address, port + 1, nullptr);
    if (!rtcp) {
        close_socket(rtp);
        return false;
    }
    rtp_socket_ = rtp;
    rtcp_socket_ = rtcp;
    port_ = port;
    return true;
}

// Every even port of the range once, from a random one: gateways sharing the
// range (one process per call) do not all race for its first pairs.
bool UdpTransport::open_in_range(const std::string &address, std::string &error)
{
    const int first = ports_.min + (ports_.min & 1), pairs = (ports_.max - first + 1) / 2;
    if (pairs < 1) {
        error = "rtp_ports " + std::to_string(ports_.min) + "-" + std::to_string(ports_.max) +
                " holds no even/odd port pair";
        return false;
    }
    const int start = g_random_int_range(0, pairs);
    for (int i = 0; i < pairs; ++i) {
        const int port = first + 2 * ((start + i) % pairs);
        GError *err = nullptr;
        GSocket *rtp = bind_udp(address, port, &err);
        if (!rtp) {
            const bool taken = g_error_matches(err, G_IO_ERROR, G_IO_ERROR_ADDRESS_IN_USE);
            if (!taken)
                error = std::string("cannot bind an RTP socket on ") + address + ":" + std::to_string(port) + ": " +
                        err->message;
            g_error_free(err);
            if (!taken)
                return false;
            continue;
        }
        if (take_pair(rtp, address, port))
            return true;
    }
    error = "no free even/odd UDP port pair in rtp_ports " + std::to_string(ports_.min) + "-" +
            std::to_string(ports_.max) + " on " + address;
    return false;
}

void UdpTransport::close()
{
    close_socket(rtp_socket_);
    close_socket(rtcp_socket_);
    port_ = 0;
}

bool UdpTransport::make_elements(const std::string &remote_address, int remote_rtp_port, int remote_rtcp_port,
                                 TransportElements &out, std::string &error)
{
    if (!is_open()) {
        error = "RTP sockets are not open";
        return false;
    }
    out = {gst_element_factory_make("udpsrc", nullptr), gst_element_factory_make("udpsrc", nullptr),
           gst_element_factory_make("udpsink", nullptr), gst_element_factory_make("udpsink", nullptr)};
    if (!out.rtp_src || !out.rtcp_src || !out.rtp_sink || !out.rtcp_sink) {
        for (GstElement *e : {out.rtp_src, out.rtcp_src, out.rtp_sink, out.rtcp_sink})
            if (e)
                gst_object_unref(gst_object_ref_sink(e));
        out = {};
        error = "GStreamer elements udpsrc/udpsink are missing";
        return false;
    }
    g_object_set(out.rtp_src, "socket", rtp_socket_, "close-socket", FALSE, nullptr);
    g_object_set(out.rtcp_src, "socket", rtcp_socket_, "close-socket", FALSE, nullptr);
    // async=false: a sink added to a playing pipeline must not ask for preroll.
    g_object_set(out.rtp_sink, "socket", rtp_socket_, "close-socket", FALSE, "host", remote_address.c_str(), "port",
                 remote_rtp_port, "async", FALSE, nullptr);
    g_object_set(out.rtcp_sink, "socket", rtcp_socket_, "close-socket", FALSE, "host", remote_address.c_str(),
                 "port", remote_rtcp_port, "async", FALSE, "sync", FALSE, nullptr);
    return true;
}

} // namespace sipsofia
