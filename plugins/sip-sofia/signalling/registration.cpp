// SipAgent's account: REGISTER (refreshed by nua before it expires, removed
// during shutdown) and the digest answers to a registrar's or a proxy's
// challenge, for REGISTER and for the INVITEs we place. The calls themselves
// are in sip_agent.cpp.
#include "signalling/sip_agent.hpp"

#include <mediagw/plugin.h>

#include <sofia-sip/msg_header.h>
#include <sofia-sip/nua.h>
#include <sofia-sip/nua_tag.h>
#include <sofia-sip/sip_header.h>
#include <sofia-sip/su_tag.h>
#include <sofia-sip/url.h>

namespace sipsofia {

bool SipAgent::authenticate(nua_handle_t *nh, const sip_t *sip, int &tries)
{
    if (account_.password.empty() || !sip || tries >= 3)
        return false;
    const msg_auth_t *au = sip->sip_www_authenticate ? sip->sip_www_authenticate : sip->sip_proxy_authenticate;
    const char *realm = au ? msg_params_find(au->au_params, "realm=") : nullptr;
    if (!au || !au->au_scheme || !realm)
        return false;
    std::string user = account_.username;
    if (user.empty()) {
        url_t *u = url_hdup(nullptr, URL_STRING_MAKE(account_.aor.c_str())->us_url);
        user = u && u->url_user ? u->url_user : "";
        su_free(nullptr, u);
    }
    // "Digest:"realm":user:password" (realm keeps its quotes). Not logged.
    const std::string cred = std::string(au->au_scheme) + ":" + realm + ":" + user + ":" + account_.password;
    ++tries;
    log(MGW_LOG_DEBUG, std::string("answering a digest challenge for realm ") + realm + " as " + user);
    nua_authenticate(nh, NUTAG_AUTH(cred.c_str()), TAG_END());
    return true;
}

void SipAgent::register_account(const Account &account)
{
    account_ = account;
    if (!nua_ || account.aor.empty())
        return;
    reg_ = nua_handle(nua_, this, SIPTAG_TO_STR(account.aor.c_str()), SIPTAG_FROM_STR(account.aor.c_str()), TAG_END());
    const std::string expires = std::to_string(account.expires);
    nua_register(reg_, TAG_IF(!account.registrar.empty(), NUTAG_REGISTRAR(account.registrar.c_str())),
                 SIPTAG_EXPIRES_STR(expires.c_str()), TAG_END());
}

void SipAgent::registered(int event, int status, const char *phrase, nua_handle_t *nh, const sip_t *sip)
{
    if (nh != reg_ || status < 200)
        return;
    const bool unregister = event == nua_r_unregister;
    if ((status == 401 || status == 407) && authenticate(nh, sip, reg_auth_tries_))
        return;
    const std::string what = std::to_string(status) + " " + (phrase ? phrase : "");
    if (status < 300) {
        reg_auth_tries_ = 0;
        if (unregister) {
            registered_ = false;
            log(MGW_LOG_INFO, "unregistered " + account_.aor);
        } else {
            const int expires = sip && sip->sip_expires ? static_cast<int>(sip->sip_expires->ex_delta)
                                                         : account_.expires;
            log(MGW_LOG_INFO, std::string(registered_ ? "registration refreshed: " : "registered ") + account_.aor +
                                  " (expires " + std::to_string(expires) + " s)");
            if (!registered_ && cb_.registration)
                cb_.registration(true, "");
            registered_ = true;
        }
    } else {
        registered_ = false;
        log(MGW_LOG_WARNING, std::string(unregister ? "unregistering" : "registering") + " " + account_.aor +
                                 " failed: " + what);
        if (!unregister && cb_.registration)
            cb_.registration(false, what);
    }
    if (unregister && stopping_)
        drain();
}

} // namespace sipsofia
