#include "whip_whep/live_ice_servers.hpp"

#include <gst/webrtc/nice/nice.h>
#include <gst/webrtc/webrtc.h>
#include <nice/agent.h>

#include <set>

namespace webrtcdirect {
namespace {

// "turn:host:port?transport=udp" (RFC 7065 has no "//"); IPv6 in brackets.
struct ServerUri {
    std::string scheme, host, transport;
    guint port = 0;
};

bool parse_uri(const std::string &url, ServerUri &out, std::string &why)
{
    const size_t colon = url.find(':');
    if (colon == std::string::npos) {
        why = "no scheme";
        return false;
    }
    out.scheme = url.substr(0, colon);
    for (auto &ch : out.scheme)
        ch = g_ascii_tolower(ch);
    if (out.scheme != "stun" && out.scheme != "stuns" && out.scheme != "turn" && out.scheme != "turns") {
        why = "scheme '" + out.scheme + "' is not stun, stuns, turn or turns";
        return false;
    }
    std::string rest = url.substr(colon + 1);
    if (rest.rfind("//", 0) == 0) // tolerated: webrtcbin's own form
        rest = rest.substr(2);
    const size_t q = rest.find('?');
    if (q != std::string::npos) {
        const std::string query = rest.substr(q + 1);
        rest = rest.substr(0, q);
        if (query.rfind("transport=", 0) != 0) {
            why = "unknown query '" + query + "'";
            return false;
        }
        out.transport = query.substr(10);
        if (out.transport != "udp" && out.transport != "tcp") {
            why = "transport '" + out.transport + "' is not udp or tcp";
            return false;
        }
    }
    size_t port_colon = rest.rfind(':');
    if (!rest.empty() && rest[0] == '[') {
        const size_t close = rest.find(']');
        if (close == std::string::npos) {
            why = "no ']' after the IPv6 address";
            return false;
        }
        out.host = rest.substr(1, close - 1);
        port_colon = close + 1 < rest.size() && rest[close + 1] == ':' ? close + 1 : std::string::npos;
    } else {
        out.host = rest.substr(0, port_colon);
    }
    const bool secure = out.scheme == "stuns" || out.scheme == "turns";
    out.port = secure ? 5349 : 3478;
    if (port_colon != std::string::npos) {
        const std::string port = rest.substr(port_colon + 1);
        guint64 value = 0;
        if (!g_ascii_string_to_unsigned(port.c_str(), 10, 1, 65535, &value, nullptr)) {
            why = "port '" + port + "' is not 1-65535";
            return false;
        }
        out.port = (guint)value;
    }
    if (out.host.empty()) {
        why = "no host";
        return false;
    }
    return true;
}

std::string escaped(const std::string &s)
{
    gchar *e = g_uri_escape_string(s.c_str(), nullptr, FALSE);
    std::string out = e;
    g_free(e);
    return out;
}

// libnice's stream ids behind webrtcbin's transceivers (one with max-bundle).
std::set<guint> nice_streams(GstElement *webrtcbin)
{
    std::set<guint> ids;
    for (gint i = 0;; ++i) {
        GstWebRTCRTPTransceiver *trans = nullptr;
        g_signal_emit_by_name(webrtcbin, "get-transceiver", i, &trans);
        if (!trans)
            break;
        GstWebRTCRTPSender *sender = nullptr;
        g_object_get(trans, "sender", &sender, nullptr);
        GstWebRTCDTLSTransport *dtls = nullptr;
        if (sender)
            g_object_get(sender, "transport", &dtls, nullptr);
        GstWebRTCICETransport *ice = nullptr;
        if (dtls)
            g_object_get(dtls, "transport", &ice, nullptr);
        if (ice && GST_IS_WEBRTC_NICE_TRANSPORT(ice) && GST_WEBRTC_NICE_TRANSPORT(ice)->stream)
            ids.insert(GST_WEBRTC_ICE_STREAM(GST_WEBRTC_NICE_TRANSPORT(ice)->stream)->stream_id);
        for (gpointer obj : {(gpointer)ice, (gpointer)dtls, (gpointer)sender, (gpointer)trans})
            if (obj)
                gst_object_unref(obj);
    }
    return ids;
}

NiceAgent *nice_agent(GstElement *webrtcbin)
{
    GObject *ice = nullptr, *agent = nullptr;
    g_object_get(webrtcbin, "ice-agent", &ice, nullptr);
    if (ice && g_object_class_find_property(G_OBJECT_GET_CLASS(ice), "agent"))
        g_object_get(ice, "agent", &agent, nullptr);
    if (ice)
        g_object_unref(ice);
    return agent ? NICE_AGENT(agent) : nullptr;
}

NiceRelayType relay_type(const ServerUri &uri)
{
    if (uri.scheme == "turns")
        return NICE_RELAY_TYPE_TURN_TLS;
    return uri.transport == "tcp" ? NICE_RELAY_TYPE_TURN_TCP : NICE_RELAY_TYPE_TURN_UDP;
}

} // namespace

std::vector<std::string> add_live_ice_servers(GstElement *webrtcbin, const std::vector<IceServer> &servers)
{
    std::vector<std::string> report;
    NiceAgent *agent = nice_agent(webrtcbin);
    const std::set<guint> streams = nice_streams(webrtcbin);
    for (const auto &server : servers) {
        ServerUri uri;
        std::string why;
        if (!parse_uri(server.url, uri, why)) {
            report.push_back("ICE server <" + server.url + "> skipped: " + why);
            continue;
        }
        // libnice takes addresses only: a name would need resolving first.
        if (!g_hostname_is_ip_address(uri.host.c_str())) {
            report.push_back("ICE server <" + server.url + "> skipped: host '" + uri.host +
                             "' is not an IP address (not resolved here)");
            continue;
        }
        const std::string hostport =
            (uri.host.find(':') != std::string::npos ? "[" + uri.host + "]" : uri.host) + ":" + std::to_string(uri.port);
        if (uri.scheme == "stun" || uri.scheme == "stuns") {
            // Server-reflexive candidates of streams gathered later only:
            // libnice does not re-run STUN discovery for a live stream.
            g_object_set(webrtcbin, "stun-server", ("stun://" + hostport).c_str(), nullptr);
            report.push_back("STUN server " + hostport + " (for streams gathered from now on)");
            continue;
        }
        if (server.username.empty() || server.credential.empty()) {
            report.push_back("TURN server <" + server.url + "> skipped: the Link has no username or credential");
            continue;
        }
        std::string webrtc_uri = uri.scheme + "://" + escaped(server.username) + ":" + escaped(server.credential) +
                                 "@" + hostport + (uri.transport.empty() ? "" : "?transport=" + uri.transport);
        gboolean added = FALSE;
        g_signal_emit_by_name(webrtcbin, "add-turn-server", webrtc_uri.c_str(), &added);
        int live = 0;
        for (guint stream : streams)
            live += agent && nice_agent_set_relay_info(agent, stream, NICE_COMPONENT_TYPE_RTP, uri.host.c_str(),
                                                       uri.port, server.username.c_str(),
                                                       server.credential.c_str(), relay_type(uri));
        report.push_back("TURN server <" + server.url + "> added (" + std::to_string(live) + " live ICE stream" +
                         (live == 1 ? "" : "s") + (added ? "" : "; webrtcbin refused its URI") + ")");
    }
    if (agent)
        g_object_unref(agent);
    return report;
}

} // namespace webrtcdirect
