#include "nat/turn_settings.hpp"

#include <cstdlib>

namespace sipsofia {

namespace {

// "turn://user:pass@host:port?transport=udp" (the turn node's webrtcbin
// form) -> host, port, transport; the credentials come as fields of their own.
bool parse_turn_uri(const std::string &uri, std::string &host, int &port, std::string &transport)
{
    if (uri.rfind("turn://", 0) != 0)
        return false; // turns:// (TLS) is not for the SIP leg
    std::string rest = uri.substr(7);
    if (auto at = rest.rfind('@'); at != std::string::npos)
        rest = rest.substr(at + 1);
    transport = "udp";
    if (auto q = rest.find('?'); q != std::string::npos) {
        const std::string query = rest.substr(q + 1);
        rest = rest.substr(0, q);
        if (auto t = query.find("transport="); t != std::string::npos)
            transport = query.substr(t + 10, query.find('&', t) - (t + 10));
    }
    port = 3478;
    std::string port_text;
    if (!rest.empty() && rest[0] == '[') {
        auto close = rest.find(']');
        if (close == std::string::npos)
            return false;
        host = rest.substr(1, close - 1);
        if (close + 1 < rest.size() && rest[close + 1] == ':')
            port_text = rest.substr(close + 2);
    } else if (auto colon = rest.rfind(':'); colon != std::string::npos) {
        host = rest.substr(0, colon);
        port_text = rest.substr(colon + 1);
    } else {
        host = rest;
    }
    if (!port_text.empty())
        port = std::atoi(port_text.c_str());
    return !host.empty() && port > 0 && port < 65536;
}

std::string field(const GstStructure *s, const char *name)
{
    const char *v = gst_structure_get_string(s, name);
    return v ? v : "";
}

} // namespace

std::optional<TurnServerConfig> turn_server_from(const GstStructure *ice, std::string &error)
{
    error.clear();
    const GValue *v = gst_structure_get_value(ice, "turn");
    if (!v || !G_VALUE_HOLDS(v, G_TYPE_STRV))
        return std::nullopt;
    bool any = false;
    for (auto p = static_cast<char **>(g_value_get_boxed(v)); p && *p; ++p) {
        any = true;
        TurnServerConfig c;
        std::string transport;
        if (!parse_turn_uri(*p, c.host, c.port, transport) || transport != "udp")
            continue;
        const bool v6 = c.host.find(':') != std::string::npos;
        c.uri = "turn:" + (v6 ? "[" + c.host + "]" : c.host) + ":" + std::to_string(c.port);
        c.username = field(ice, "username");
        c.password = field(ice, "password");
        gst_structure_get_int64(ice, "expires", &c.expires);
        return c;
    }
    if (any)
        error = "the turn node gives no turn: server over UDP (the SIP leg's relay speaks TURN over UDP only)";
    return std::nullopt;
}

} // namespace sipsofia
