#include "ice_servers.hpp"

#include "join_script.hpp"

namespace browsercapture {

std::string rtc_ice_servers_json(const GstStructure *servers)
{
    if (!servers)
        return "[]";
    const char *user = gst_structure_get_string(servers, "username");
    const char *password = gst_structure_get_string(servers, "password");
    std::string out = "[";
    for (const char *field : {"stun", "turn"}) {
        const GValue *v = gst_structure_get_value(servers, field);
        if (!v || !G_VALUE_HOLDS(v, G_TYPE_STRV))
            continue;
        for (auto p = static_cast<char **>(g_value_get_boxed(v)); p && *p; ++p) {
            std::string uri = *p;
            const size_t scheme = uri.find("://");
            if (scheme != std::string::npos) {
                const size_t at = uri.find('@', scheme);
                uri = uri.substr(0, scheme) + ":" + uri.substr(at == std::string::npos ? scheme + 3 : at + 1);
            }
            out += std::string(out.size() > 1 ? "," : "") + "{\"urls\":" + js_string(uri);
            if (g_str_equal(field, "turn") && user && password)
                out += ",\"username\":" + js_string(user) + ",\"credential\":" + js_string(password);
            out += "}";
        }
    }
    return out + "]";
}

} // namespace browsercapture
