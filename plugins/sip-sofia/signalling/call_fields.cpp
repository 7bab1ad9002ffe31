#include "signalling/call_fields.hpp"

#include <sofia-sip/url.h>

#include <glib.h>

#include <cctype>

namespace sipsofia {

namespace {

std::string bounded(const char *text)
{
    std::string out;
    for (const char *p = text; p && *p && out.size() < kMaxFieldBytes; ++p)
        if (static_cast<unsigned char>(*p) >= 0x20 && *p != 0x7f)
            out += *p;
    return out;
}

std::string uri_text(const url_t *url)
{
    if (!url)
        return "";
    char *s = url_as_string(nullptr, url);
    std::string out = bounded(s);
    su_free(nullptr, s);
    return out;
}

std::string display_name(const char *display)
{
    std::string name = bounded(display);
    if (name.size() >= 2 && name.front() == '"' && name.back() == '"')
        name = name.substr(1, name.size() - 2);
    return name;
}

std::string lowercase(const char *s)
{
    std::string out;
    for (; s && *s; ++s)
        out += static_cast<char>(std::tolower(static_cast<unsigned char>(*s)));
    return out;
}

// A header name usable in ${sip.header.NAME}: "X-" then token characters.
bool usable_header(const std::string &name)
{
    if (name.size() < 3 || name.size() > 64 || name.compare(0, 2, "x-") != 0)
        return false;
    for (char c : name)
        if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.'))
            return false;
    return true;
}

} // namespace

CallFields call_fields(const sip_t *sip, const std::string &source)
{
    CallFields out;
    if (!sip)
        return out;
    if (sip->sip_request) {
        out.emplace_back("user", bounded(sip->sip_request->rq_url->url_user));
        out.emplace_back("uri", uri_text(sip->sip_request->rq_url));
    }
    if (sip->sip_from) {
        out.emplace_back("from", uri_text(sip->sip_from->a_url));
        out.emplace_back("from_user", bounded(sip->sip_from->a_url->url_user));
        out.emplace_back("from_name", display_name(sip->sip_from->a_display));
    }
    if (sip->sip_to) {
        out.emplace_back("to", uri_text(sip->sip_to->a_url));
        out.emplace_back("to_user", bounded(sip->sip_to->a_url->url_user));
    }
    if (sip->sip_call_id)
        out.emplace_back("call_id", bounded(sip->sip_call_id->i_id));
    out.emplace_back("source", source);
    size_t headers = 0;
    for (const sip_unknown_t *h = sip->sip_unknown; h && headers < kMaxHeaders; h = h->un_next) {
        const std::string name = lowercase(h->un_name);
        if (!usable_header(name))
            continue;
        bool seen = false; // the first of repeated headers counts
        for (const auto &f : out)
            seen = seen || f.first == "header." + name;
        if (seen)
            continue;
        out.emplace_back("header." + name, bounded(h->un_value));
        ++headers;
    }
    return out;
}

} // namespace sipsofia
