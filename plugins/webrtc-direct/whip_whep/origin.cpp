#include "whip_whep/origin.hpp"

#include <glib.h>

namespace webrtcdirect {
namespace {

struct Origin {
    std::string scheme, host;
    int port = -1;
};

bool origin_of(const std::string &url, Origin &out)
{
    GUri *uri = g_uri_parse(url.c_str(), G_URI_FLAGS_NONE, nullptr);
    if (!uri)
        return false;
    const char *host = g_uri_get_host(uri);
    gchar *scheme = g_ascii_strdown(g_uri_get_scheme(uri), -1);
    gchar *lower_host = host ? g_ascii_strdown(host, -1) : nullptr;
    out.scheme = scheme;
    out.host = lower_host ? lower_host : "";
    out.port = g_uri_get_port(uri);
    if (out.port < 0)
        out.port = out.scheme == "https" || out.scheme == "wss" ? 443 : out.scheme == "http" || out.scheme == "ws" ? 80 : -1;
    g_free(scheme);
    g_free(lower_host);
    g_uri_unref(uri);
    return !out.host.empty() && out.port > 0;
}

} // namespace

bool same_origin(const std::string &a, const std::string &b)
{
    Origin x, y;
    return origin_of(a, x) && origin_of(b, y) && x.scheme == y.scheme && x.host == y.host && x.port == y.port;
}

} // namespace webrtcdirect
