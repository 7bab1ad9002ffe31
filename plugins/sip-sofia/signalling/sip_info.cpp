#include "signalling/sip_info.hpp"

#include <glib.h>

#include <cctype>

namespace sipsofia {

namespace {

std::string lower_trim(std::string s)
{
    auto semi = s.find(';'); // parameters (charset) do not matter
    if (semi != std::string::npos)
        s.erase(semi);
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back())))
        s.pop_back();
    size_t start = 0;
    while (start < s.size() && std::isspace(static_cast<unsigned char>(s[start])))
        ++start;
    s = s.substr(start);
    for (auto &c : s)
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return s;
}

// "5", "*", "#", "A".."D"; RFC 4733 event numbers 10 (*) and 11 (#) too.
char dtmf_digit(std::string v)
{
    v = lower_trim(v);
    if (v.size() == 1) {
        char c = static_cast<char>(std::toupper(static_cast<unsigned char>(v[0])));
        if (std::isdigit(static_cast<unsigned char>(c)) || c == '*' || c == '#' || (c >= 'A' && c <= 'D'))
            return c;
    }
    if (v == "10")
        return '*';
    if (v == "11")
        return '#';
    return 0;
}

// "Duration=160": 0 (none) unless a plain number of at most a minute;
// atoi() of a network value would overflow.
int duration_ms(const std::string &v)
{
    guint64 ms = 0;
    const std::string t = lower_trim(v);
    return g_ascii_string_to_unsigned(t.c_str(), 10, 0, 60000, &ms, nullptr) ? static_cast<int>(ms) : 0;
}

} // namespace

InfoContent parse_info(const std::string &content_type, const std::string &body)
{
    InfoContent c;
    const std::string type = lower_trim(content_type);
    if (type == "application/dtmf-relay") {
        // Lines "Key=Value"; Signal is required, Duration optional.
        c.kind = InfoContent::Kind::Malformed;
        gchar **lines = g_strsplit_set(body.c_str(), "\r\n", -1);
        for (gchar **l = lines; *l; ++l) {
            gchar **kv = g_strsplit(*l, "=", 2);
            if (kv[0] && kv[1]) {
                const std::string key = lower_trim(kv[0]);
                if (key == "signal" && (c.digit = dtmf_digit(kv[1])))
                    c.kind = InfoContent::Kind::Dtmf;
                else if (key == "duration")
                    c.duration_ms = duration_ms(kv[1]);
            }
            g_strfreev(kv);
        }
        g_strfreev(lines);
        if (c.kind != InfoContent::Kind::Dtmf)
            c.digit = 0;
    } else if (type == "application/dtmf") {
        c.digit = dtmf_digit(body);
        c.kind = c.digit ? InfoContent::Kind::Dtmf : InfoContent::Kind::Malformed;
    } else if (type == "application/media_control+xml") {
        c.kind = body.find("picture_fast_update") != std::string::npos ? InfoContent::Kind::PictureFastUpdate
                                                                        : InfoContent::Kind::Malformed;
    }
    return c;
}

std::string dtmf_relay_body(char digit, int duration_ms)
{
    return std::string("Signal=") + digit + "\r\nDuration=" + std::to_string(duration_ms > 0 ? duration_ms : 160) +
           "\r\n";
}

std::string picture_fast_update_body()
{
    return "<?xml version=\"1.0\" encoding=\"utf-8\" ?>\r\n"
           "<media_control><vc_primitive><to_encoder><picture_fast_update/></to_encoder></vc_primitive>"
           "</media_control>\r\n";
}

} // namespace sipsofia
