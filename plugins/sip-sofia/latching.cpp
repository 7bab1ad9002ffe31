#include "latching.hpp"

#include <gst/net/gstnetaddressmeta.h>

namespace sipsofia {

void Latch::reset(GstElement *sink, bool strict)
{
    // Only a sink with an address to change: an ICE sink (nicesink) sends
    // on the pair the checks selected.
    sink_ = sink && g_object_class_find_property(G_OBJECT_GET_CLASS(sink), "host") ? sink : nullptr;
    strict_ = strict;
    g_clear_object(&address_);
    port_ = 0;
}

bool Latch::accept(GstBuffer *buffer)
{
    GstNetAddressMeta *meta = gst_buffer_get_net_address_meta(buffer);
    if (!sink_ || !meta || !G_IS_INET_SOCKET_ADDRESS(meta->addr))
        return true;
    auto *from = G_INET_SOCKET_ADDRESS(meta->addr);
    GInetAddress *ia = g_inet_socket_address_get_address(from);
    const guint16 port = g_inet_socket_address_get_port(from);
    if (address_)
        return !strict_ || (port == port_ && g_inet_address_equal(ia, address_));
    address_ = G_INET_ADDRESS(g_object_ref(ia));
    port_ = port;
    gchar *host = g_inet_address_to_string(ia);
    gchar *old_host = nullptr;
    gint old_port = 0;
    g_object_get(sink_, "host", &old_host, "port", &old_port, nullptr);
    if (g_strcmp0(old_host, host) || old_port != port) {
        GST_INFO_OBJECT(sink_, "latching to %s:%u (SDP said %s:%d)", host, port, old_host, old_port);
        g_object_set(sink_, "host", host, "port", static_cast<gint>(port), nullptr);
    }
    g_free(old_host);
    g_free(host);
    return true;
}

} // namespace sipsofia
