#include "whip_whep/ice_server_links.hpp"

#include <glib.h>

#include <cstring>

namespace webrtcdirect {
namespace {

// A cursor over one Link field value (RFC 8288 section 3): link-value =
// "<" URI-Reference ">" *( OWS ";" OWS link-param ), links separated by ",".
struct Cursor {
    const std::string &s;
    size_t i = 0;

    bool end() const { return i >= s.size(); }
    void skip_ws()
    {
        while (!end() && (s[i] == ' ' || s[i] == '\t'))
            ++i;
    }
    // Up to (not including) one of `stops`, trimmed.
    std::string token(const char *stops)
    {
        size_t start = i;
        while (!end() && !std::strchr(stops, s[i]))
            ++i;
        std::string t = s.substr(start, i - start);
        while (!t.empty() && (t.back() == ' ' || t.back() == '\t'))
            t.pop_back();
        return t;
    }
    // A quoted-string with backslash escapes; the opening quote is at i.
    bool quoted(std::string &out)
    {
        for (++i; !end(); ++i) {
            if (s[i] == '"') {
                ++i;
                return true;
            }
            if (s[i] == '\\' && i + 1 < s.size())
                ++i;
            out += s[i];
        }
        return false;
    }
    // Past the next "," outside quotes: the start of the next link.
    void next_link()
    {
        bool in_quotes = false;
        for (; !end(); ++i) {
            if (s[i] == '"')
                in_quotes = !in_quotes;
            else if (s[i] == '\\' && in_quotes)
                ++i;
            else if (s[i] == ',' && !in_quotes) {
                ++i;
                return;
            }
        }
    }
};

bool has_rel(const std::string &rel, const char *wanted)
{
    gchar **rels = g_strsplit_set(rel.c_str(), " \t", -1);
    bool found = false;
    for (gchar **r = rels; *r && !found; ++r)
        found = g_ascii_strcasecmp(*r, wanted) == 0;
    g_strfreev(rels);
    return found;
}

} // namespace

std::vector<IceServer> ice_servers_from_links(const std::vector<std::string> &values,
                                              std::vector<std::string> &problems)
{
    std::vector<IceServer> out;
    for (const auto &value : values) {
        Cursor c{value};
        while (true) {
            c.skip_ws();
            while (!c.end() && (value[c.i] == ',' || value[c.i] == ' '))
                ++c.i;
            if (c.end())
                break;
            if (value[c.i] != '<') {
                problems.push_back("Link: expected '<' at offset " + std::to_string(c.i));
                c.next_link();
                continue;
            }
            ++c.i;
            IceServer server;
            server.url = c.token(">");
            if (c.end()) {
                problems.push_back("Link: no '>' after <" + server.url);
                break;
            }
            ++c.i;
            std::string rel;
            bool bad = false;
            while (true) { // ; name[=value]
                c.skip_ws();
                if (c.end() || value[c.i] == ',')
                    break;
                if (value[c.i] != ';') {
                    bad = true;
                    break;
                }
                ++c.i;
                c.skip_ws();
                std::string name = c.token("=;,"), param;
                if (!c.end() && value[c.i] == '=') {
                    ++c.i;
                    c.skip_ws();
                    if (!c.end() && value[c.i] == '"') {
                        if (!c.quoted(param)) {
                            bad = true;
                            break;
                        }
                    } else {
                        param = c.token(";,");
                    }
                }
                gchar *lower = g_ascii_strdown(name.c_str(), -1);
                name = lower;
                g_free(lower);
                if (name == "rel")
                    rel = param;
                else if (name == "username")
                    server.username = param;
                else if (name == "credential")
                    server.credential = param;
            }
            if (bad)
                problems.push_back("Link <" + server.url + ">: malformed parameters");
            else if (has_rel(rel, "ice-server"))
                out.push_back(std::move(server));
            c.next_link();
        }
    }
    return out;
}

} // namespace webrtcdirect
