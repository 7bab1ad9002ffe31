#include "nat/ice_settings.hpp"

#include "nat/turn_settings.hpp"

#include <cstdlib>

namespace sipsofia {

namespace {

// "stun://203.0.113.1:3478" -> host, port. libnice takes an address only:
// a STUN server given by name is skipped (the relayed candidates carry a
// server-reflexive address of their own anyway).
bool parse_stun(const std::string &uri, std::string &host, int &port)
{
    if (uri.rfind("stun://", 0) != 0)
        return false;
    std::string rest = uri.substr(7);
    std::string port_text;
    if (!rest.empty() && rest[0] == '[') {
        const auto close = rest.find(']');
        if (close == std::string::npos)
            return false;
        host = rest.substr(1, close - 1);
        if (close + 1 < rest.size() && rest[close + 1] == ':')
            port_text = rest.substr(close + 2);
    } else if (const auto colon = rest.rfind(':'); colon != std::string::npos) {
        host = rest.substr(0, colon);
        port_text = rest.substr(colon + 1);
    } else {
        host = rest;
    }
    port = port_text.empty() ? 3478 : std::atoi(port_text.c_str());
    GInetAddress *ia = g_inet_address_new_from_string(host.c_str());
    if (ia)
        g_object_unref(ia);
    return ia && port > 0 && port < 65536;
}

} // namespace

bool ice_servers_from(const GstStructure *ice, IceServers &out, std::string &error)
{
    out = IceServers{};
    error.clear();
    const GValue *v = gst_structure_get_value(ice, "stun");
    if (v && G_VALUE_HOLDS(v, G_TYPE_STRV)) {
        for (auto p = static_cast<char **>(g_value_get_boxed(v)); p && *p; ++p) {
            if (parse_stun(*p, out.stun_host, out.stun_port))
                break;
            out.stun_host.clear();
        }
    }
    out.turn = turn_server_from(ice, error);
    if (!error.empty())
        return false;
    const char *policy = gst_structure_get_string(ice, "policy");
    out.relay_only = out.turn && policy && g_str_equal(policy, "relay");
    return true;
}

} // namespace sipsofia
