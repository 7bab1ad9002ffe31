#include "media/latching.hpp"

#include <gst/net/gstnetaddressmeta.h>

namespace sipsofia {

namespace {

// The SDP's address in the form g_inet_address_to_string() gives a packet's
// source ("" when not numeric: a name never matches a packet).
std::string numeric(const std::string &host)
{
    GInetAddress *ia = g_inet_address_new_from_string(host.c_str());
    if (!ia)
        return "";
    gchar *text = g_inet_address_to_string(ia);
    std::string s = text;
    g_free(text);
    g_object_unref(ia);
    return s;
}

} // namespace

void Latch::reset(GstElement *sink, SourcePolicy policy, const std::string &sdp_host, int sdp_port,
                  const char *label, StrangerLog log)
{
    sink_ = sink && g_object_class_find_property(G_OBJECT_GET_CLASS(sink), "host") ? sink : nullptr;
    filter_ = SourceFilter(policy, Endpoint{numeric(sdp_host), sdp_port}, g_get_monotonic_time());
    label_ = label;
    log_ = std::move(log);
}

bool Latch::accept(GstBuffer *buffer)
{
    GstNetAddressMeta *meta = gst_buffer_get_net_address_meta(buffer);
    if (!sink_ || !meta || !G_IS_INET_SOCKET_ADDRESS(meta->addr))
        return true;
    auto *from = G_INET_SOCKET_ADDRESS(meta->addr);
    gchar *host = g_inet_address_to_string(g_inet_socket_address_get_address(from));
    const Endpoint source{host, g_inet_socket_address_get_port(from)};
    g_free(host);
    switch (filter_.check(source, g_get_monotonic_time())) {
    case SourceFilter::Verdict::Accept:
        return true;
    case SourceFilter::Verdict::Drop:
        return false;
    case SourceFilter::Verdict::DropFirstTime:
        if (log_) // once per offer/answer: a flood must not flood the log
            log_(label_ + ": dropping packets from " + source.address + ":" + std::to_string(source.port) +
                 ", not the latched source (further ones are dropped silently)");
        return false;
    case SourceFilter::Verdict::Latch:
        break;
    }
    gchar *old_host = nullptr;
    gint old_port = 0;
    g_object_get(sink_, "host", &old_host, "port", &old_port, nullptr);
    if (g_strcmp0(old_host, source.address.c_str()) || old_port != source.port) {
        GST_INFO_OBJECT(sink_, "latching to %s:%d (SDP said %s:%d)", source.address.c_str(), source.port, old_host,
                        old_port);
        g_object_set(sink_, "host", source.address.c_str(), "port", source.port, nullptr);
    }
    g_free(old_host);
    return true;
}

} // namespace sipsofia
