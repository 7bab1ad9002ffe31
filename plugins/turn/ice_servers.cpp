#include "ice_servers.hpp"

#include <glib.h>

#include <cstdlib>

namespace turn {

bool parse_server(const std::string &uri, Server &out, std::string &error)
{
    auto colon = uri.find(':');
    out = {};
    out.scheme = colon == std::string::npos ? "" : uri.substr(0, colon);
    if (out.scheme != "stun" && out.scheme != "turn" && out.scheme != "turns") {
        error = "\"" + uri + "\": the scheme must be stun:, turn: or turns:";
        return false;
    }
    std::string rest = uri.substr(colon + 1);
    if (rest.rfind("//", 0) == 0)
        rest = rest.substr(2);
    std::string query;
    if (auto q = rest.find('?'); q != std::string::npos) {
        query = rest.substr(q + 1);
        rest = rest.substr(0, q);
    }
    if (rest.find('@') != std::string::npos) {
        error = "\"" + uri + "\": credentials go in username/password/secret, not in the URI";
        return false;
    }
    std::string port_text;
    if (!rest.empty() && rest.front() == '[') { // [IPv6]:port
        auto close = rest.find(']');
        if (close == std::string::npos) {
            error = "\"" + uri + "\": unclosed [";
            return false;
        }
        out.host = rest.substr(1, close - 1);
        if (close + 1 < rest.size() && rest[close + 1] == ':')
            port_text = rest.substr(close + 2);
    } else if (auto c = rest.rfind(':'); c != std::string::npos) {
        out.host = rest.substr(0, c);
        port_text = rest.substr(c + 1);
    } else {
        out.host = rest;
    }
    if (out.host.empty()) {
        error = "\"" + uri + "\": no host";
        return false;
    }
    out.port = out.scheme == "turns" ? 5349 : 3478;
    if (!port_text.empty()) {
        char *end = nullptr;
        long p = strtol(port_text.c_str(), &end, 10);
        if (*end || p < 1 || p > 65535) {
            error = "\"" + uri + "\": port \"" + port_text + "\" is not 1-65535";
            return false;
        }
        out.port = (int)p;
    }
    if (out.scheme != "stun") {
        out.transport = out.scheme == "turns" ? "tls" : "udp";
        if (!query.empty()) {
            if (query == "transport=udp" || query == "transport=tcp")
                out.transport = query.substr(10);
            else {
                error = "\"" + uri + "\": unknown \"?" + query + "\" (transport=udp or transport=tcp)";
                return false;
            }
            if (out.scheme == "turns" && out.transport == "udp") {
                error = "\"" + uri + "\": turns: runs over TLS, not UDP";
                return false;
            }
            if (out.scheme == "turns")
                out.transport = "tls";
        }
    } else if (!query.empty()) {
        error = "\"" + uri + "\": stun: takes no parameters";
        return false;
    }
    return true;
}

void rest_credentials(const std::string &secret, const std::string &user, int64_t expiry, std::string &username,
                      std::string &password)
{
    username = std::to_string(expiry) + (user.empty() ? "" : ":" + user);
    GHmac *hmac = g_hmac_new(G_CHECKSUM_SHA1, reinterpret_cast<const guchar *>(secret.data()), secret.size());
    g_hmac_update(hmac, reinterpret_cast<const guchar *>(username.data()), (gssize)username.size());
    guint8 digest[20];
    gsize len = sizeof digest;
    g_hmac_get_digest(hmac, digest, &len);
    g_hmac_unref(hmac);
    gchar *b64 = g_base64_encode(digest, len);
    password = b64;
    g_free(b64);
}

std::string webrtcbin_uri(const Server &s, const std::string &username, const std::string &password)
{
    std::string host = s.host.find(':') != std::string::npos ? "[" + s.host + "]" : s.host;
    std::string hostport = host + ":" + std::to_string(s.port);
    if (s.scheme == "stun")
        return "stun://" + hostport;
    gchar *u = g_uri_escape_string(username.c_str(), nullptr, FALSE);
    gchar *p = g_uri_escape_string(password.c_str(), nullptr, FALSE);
    std::string out = s.scheme + "://" + u + ":" + p + "@" + hostport;
    if (s.scheme == "turn" && s.transport == "tcp")
        out += "?transport=tcp";
    g_free(u);
    g_free(p);
    return out;
}

} // namespace turn
