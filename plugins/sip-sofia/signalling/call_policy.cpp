#include "signalling/call_policy.hpp"

#include <glib.h>
#include <sys/random.h>

#include <sofia-sip/auth_digest.h>
#include <sofia-sip/sip.h>
#include <sofia-sip/su_alloc.h>
#include <sofia-sip/url.h>

#include <algorithm>

namespace sipsofia {

namespace {
constexpr size_t kNonces = 64;                  // challenges outstanding at once
constexpr int64_t kNonceLifetimeUs = 30'000'000; // a caller answers a challenge at once

// An address or CIDR block: "192.0.2.7", "10.0.0.0/8", "2001:db8::/32".
GInetAddressMask *parse_block(const std::string &text)
{
    const std::string cidr = text.find('/') == std::string::npos
                                 ? text + (text.find(':') == std::string::npos ? "/32" : "/128")
                                 : text;
    return g_inet_address_mask_new_from_string(cidr.c_str(), nullptr);
}
// The digest-uri names the request's resource: the same URI, or a URI with
// no user part on the same scheme, host and port.
bool same_resource(const url_t *digest, const url_t *request)
{
    if (url_cmp_all(digest, request) == 0)
        return true;
    auto port = [](const url_t *u) { return std::string(u->url_port ? u->url_port : ""); };
    return !digest->url_user && digest->url_type == request->url_type && digest->url_host && request->url_host &&
           g_ascii_strcasecmp(digest->url_host, request->url_host) == 0 && port(digest) == port(request);
}
} // namespace

CallPolicy::~CallPolicy()
{
    for (auto m : sources_)
        g_object_unref(m);
}

std::unique_ptr<CallPolicy> CallPolicy::make(const Config &c, std::string &error)
{
    auto p = std::make_unique<CallPolicy>();
    if (c.mode == "auto") {
        p->mode_ = Mode::Auto;
    } else if (c.mode == "allowlist") {
        if (c.allow.empty()) {
            error = "answer = \"allowlist\" needs at least one `allow` pattern";
            return nullptr;
        }
        p->mode_ = Mode::Allowlist;
    } else if (c.mode == "auth") {
        if (c.user.empty() || c.password.empty()) {
            error = "answer = \"auth\" needs `auth_user` and `auth_password`";
            return nullptr;
        }
        p->mode_ = Mode::Auth;
    } else {
        error = "answer: expected auto, allowlist or auth, not '" + c.mode + "'";
        return nullptr;
    }
    for (const auto &block : c.allow_sources) {
        GInetAddressMask *m = parse_block(block);
        if (!m) {
            error = "allow_sources: '" + block + "' is not an address or CIDR block (10.0.0.0/8, 2001:db8::/32)";
            return nullptr;
        }
        p->sources_.push_back(m);
    }
    p->allow_ = c.allow;
    p->realm_ = c.realm.empty() ? "mediagw" : c.realm;
    p->user_ = c.user;
    p->password_ = c.password;
    return p;
}

bool CallPolicy::allowed(const std::vector<std::string> &patterns, const std::string &uri,
                         const std::string &short_uri)
{
    return std::any_of(patterns.begin(), patterns.end(), [&](const std::string &p) {
        return g_pattern_match_simple(p.c_str(), uri.c_str()) || g_pattern_match_simple(p.c_str(), short_uri.c_str());
    });
}

bool CallPolicy::source_allowed(const std::string &address) const
{
    if (sources_.empty())
        return true;
    GInetAddress *ia = g_inet_address_new_from_string(address.c_str());
    if (!ia)
        return false;
    const bool ok = std::any_of(sources_.begin(), sources_.end(), [ia](GInetAddressMask *m) {
        return g_inet_address_get_family(ia) == g_inet_address_mask_get_family(m) &&
               g_inet_address_mask_matches(m, ia);
    });
    g_object_unref(ia);
    return ok;
}

// 128 bits from the kernel's CSPRNG: a nonce nobody can predict. Kept with
// the URI it challenges; dropped when answered, when too old, or when 64
// newer ones are outstanding.
std::string CallPolicy::new_nonce(const std::string &uri, int64_t now_us)
{
    unsigned char bytes[16];
    if (getrandom(bytes, sizeof bytes, 0) != static_cast<ssize_t>(sizeof bytes))
        return ""; // never on Linux >= 3.17 for 16 bytes; an empty nonce matches nothing
    char hex[33];
    for (size_t i = 0; i < sizeof bytes; ++i)
        g_snprintf(hex + 2 * i, 3, "%02x", bytes[i]);
    nonces_.push_back(Nonce{hex, uri, now_us});
    if (nonces_.size() > kNonces)
        nonces_.pop_front();
    return hex;
}

bool CallPolicy::digest_ok(const sip_s *sip, int64_t now_us, std::string &why)
{
    std::erase_if(nonces_, [now_us](const Nonce &n) { return now_us - n.issued_us > kNonceLifetimeUs; });
    su_home_t home[1] = {SU_HOME_INIT(home)};
    bool ok = false;
    why = "no credentials";
    char *request_uri = url_as_string(home, sip->sip_request->rq_url);
    for (const sip_authorization_t *au = sip->sip_authorization; au; au = au->au_next) {
        if (!au->au_scheme || g_ascii_strcasecmp(au->au_scheme, "Digest") || !au->au_params)
            continue;
        auth_response_t ar[1] = {};
        ar->ar_size = sizeof(ar);
        if (auth_digest_response_get(home, ar, au->au_params) < 0 || !ar->ar_username || !ar->ar_realm ||
            !ar->ar_nonce || !ar->ar_response || !ar->ar_uri) {
            why = "malformed credentials";
            continue;
        }
        if (realm_ != ar->ar_realm)
            continue;
        if (user_ != ar->ar_username) {
            why = "unknown user";
            break;
        }
        auto n = std::find_if(nonces_.begin(), nonces_.end(), [&](const Nonce &x) { return x.value == ar->ar_nonce; });
        if (n == nonces_.end() || n->value.empty()) {
            why = "stale, used or foreign nonce";
            break;
        }
        const std::string challenged_uri = n->uri;
        nonces_.erase(n); // one use, whatever the outcome: a replay finds nothing
        // The nonce answers the request URI we challenged, and the response
        // (which covers the digest-uri) must name the same resource (RFC 2617
        // 3.2.2.5): the request URI itself, or its host and port, which is
        // what sipp and some phones send.
        const url_t *digest_uri = url_hdup(home, URL_STRING_MAKE(ar->ar_uri)->us_url);
        if (!request_uri || challenged_uri != request_uri || !digest_uri ||
            !same_resource(digest_uri, sip->sip_request->rq_url)) {
            why = "credentials for another request URI";
            break;
        }
        // One use: with qop the only valid nonce-count is the first.
        if (ar->ar_qop && (!ar->ar_nc || g_ascii_strcasecmp(ar->ar_nc, "00000001"))) {
            why = "replayed nonce-count";
            break;
        }
        auth_hexmd5_t ha1, response;
        auth_digest_ha1(ha1, user_.c_str(), realm_.c_str(), password_.c_str());
        auth_digest_response(ar, response, ha1, sip->sip_request->rq_method_name, nullptr, 0);
        ok = g_ascii_strcasecmp(response, ar->ar_response) == 0;
        why = ok ? "" : "wrong password";
        break;
    }
    su_home_deinit(home);
    return ok;
}

CallPolicy::Verdict CallPolicy::check(const sip_s *sip, const std::string &source, int64_t now_us)
{
    Verdict v;
    if (!source_allowed(source)) {
        v.status = 403;
        v.why = "source address " + (source.empty() ? std::string("(unknown)") : source) + " is not in allow_sources";
        return v;
    }
    if (mode_ == Mode::Auto)
        return v;
    if (!sip || !sip->sip_from || !sip->sip_request) {
        v.status = 403;
        v.why = "no From or request line";
        return v;
    }
    if (mode_ == Mode::Allowlist) {
        const url_t *u = sip->sip_from->a_url;
        su_home_t home[1] = {SU_HOME_INIT(home)};
        char *full = url_as_string(home, u);
        std::string short_uri = std::string(u->url_scheme ? u->url_scheme : "sip") + ":" +
                                (u->url_user ? std::string(u->url_user) + "@" : "") + (u->url_host ? u->url_host : "");
        if (!allowed(allow_, full ? full : "", short_uri)) {
            v.status = 403;
            v.why = std::string("caller ") + (full ? full : "?") + " is not in the allowlist";
        }
        su_home_deinit(home);
        return v;
    }
    std::string why;
    if (digest_ok(sip, now_us, why))
        return v;
    // A wrong password is refused, not challenged again (no guessing loop).
    if (why == "wrong password" || why == "unknown user") {
        v.status = 403;
        v.why = "digest authentication failed: " + why;
        return v;
    }
    su_home_t home[1] = {SU_HOME_INIT(home)};
    const char *uri = url_as_string(home, sip->sip_request->rq_url);
    const std::string nonce = new_nonce(uri ? uri : "", now_us);
    su_home_deinit(home);
    v.status = 401;
    v.why = "challenging the caller (" + why + ")";
    v.challenge = "Digest realm=\"" + realm_ + "\", nonce=\"" + nonce + "\", algorithm=MD5, qop=\"auth\"";
    return v;
}

} // namespace sipsofia
