#include "call_policy.hpp"

#include <glib.h>

#include <sofia-sip/auth_digest.h>
#include <sofia-sip/sip.h>
#include <sofia-sip/su_alloc.h>
#include <sofia-sip/url.h>

#include <algorithm>

namespace sipsofia {

namespace {
constexpr size_t kNonces = 64; // challenges outstanding at once
}

std::unique_ptr<CallPolicy> CallPolicy::make(const std::string &mode, std::vector<std::string> allow,
                                             std::string realm, std::string user, std::string password,
                                             std::string &error)
{
    auto p = std::make_unique<CallPolicy>();
    if (mode == "auto") {
        p->mode_ = Mode::Auto;
    } else if (mode == "allowlist") {
        if (allow.empty()) {
            error = "answer = \"allowlist\" needs at least one `allow` pattern";
            return nullptr;
        }
        p->mode_ = Mode::Allowlist;
    } else if (mode == "auth") {
        if (user.empty() || password.empty()) {
            error = "answer = \"auth\" needs `auth_user` and `auth_password`";
            return nullptr;
        }
        p->mode_ = Mode::Auth;
    } else {
        error = "answer: expected auto, allowlist or auth, not '" + mode + "'";
        return nullptr;
    }
    p->allow_ = std::move(allow);
    p->realm_ = realm.empty() ? "mediagw" : std::move(realm);
    p->user_ = std::move(user);
    p->password_ = std::move(password);
    return p;
}

bool CallPolicy::allowed(const std::vector<std::string> &patterns, const std::string &uri,
                         const std::string &short_uri)
{
    return std::any_of(patterns.begin(), patterns.end(), [&](const std::string &p) {
        return g_pattern_match_simple(p.c_str(), uri.c_str()) || g_pattern_match_simple(p.c_str(), short_uri.c_str());
    });
}

std::string CallPolicy::new_nonce()
{
    char buf[33];
    for (int i = 0; i < 4; ++i)
        g_snprintf(buf + 8 * i, 9, "%08x", g_random_int());
    nonces_.emplace_back(buf);
    if (nonces_.size() > kNonces)
        nonces_.pop_front();
    return buf;
}

bool CallPolicy::digest_ok(const sip_s *sip, std::string &why) const
{
    su_home_t home[1] = {SU_HOME_INIT(home)};
    bool ok = false;
    why = "no credentials";
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
        if (std::find(nonces_.begin(), nonces_.end(), std::string(ar->ar_nonce)) == nonces_.end()) {
            why = "stale or foreign nonce";
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

CallPolicy::Verdict CallPolicy::check(const sip_s *sip)
{
    Verdict v;
    if (mode_ == Mode::Auto || !sip || !sip->sip_from)
        return v;
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
    if (digest_ok(sip, why))
        return v;
    // A wrong password is refused, not challenged again (no guessing loop).
    if (why == "wrong password" || why == "unknown user") {
        v.status = 403;
        v.why = "digest authentication failed: " + why;
        return v;
    }
    v.status = 401;
    v.why = "challenging the caller (" + why + ")";
    v.challenge = "Digest realm=\"" + realm_ + "\", nonce=\"" + new_nonce() + "\", algorithm=MD5, qop=\"auth\"";
    return v;
}

} // namespace sipsofia
