// A page's URL as logs, events and a BYE's Reason may show it: scheme, host,
// port and path only. Conference URLs carry secrets in their user info,
// query or fragment (a Jitsi JWT, a ?token=, a room password), and a
// room.failed reason travels to the SIP caller.
#pragma once

#include <glib.h>

#include <string>

namespace browsercapture {

inline std::string loggable_url(const std::string &url)
{
    GUri *uri = g_uri_parse(url.c_str(), G_URI_FLAGS_NONE, nullptr);
    if (!uri)
        return "(the page's URL, unparsable)";
    gchar *text = g_uri_to_string_partial(
        uri, GUriHideFlags(G_URI_HIDE_USERINFO | G_URI_HIDE_QUERY | G_URI_HIDE_FRAGMENT));
    std::string out = text ? text : "";
    g_free(text);
    g_uri_unref(uri);
    return out;
}

} // namespace browsercapture
