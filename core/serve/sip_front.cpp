#include "sip_front.hpp"

#include "log.hpp"
#include "supervisor.hpp"

#include <sofia-sip/nua_tag.h>
#include <sofia-sip/nta_tag.h>
#include <sofia-sip/sip_header.h>
#include <sofia-sip/sip_status.h>
#include <sofia-sip/su_log.h>
#include <sofia-sip/su_tag.h>
#include <sofia-sip/tport_tag.h>

namespace mediagw::serve {

namespace {

// Nothing thrown crosses Sofia's C frames.
void on_nua(nua_event_t event, int status, char const *, nua_t *, nua_magic_t *magic, nua_handle_t *nh,
            nua_hmagic_t *, sip_t const *sip, tagi_t tags[])
{
    try {
        static_cast<SipFront *>(magic)->handle(event, status, nh, sip, tags);
    } catch (const std::exception &e) {
        log(MGW_LOG_ERROR, "sip-front", std::string("SIP event: ") + e.what());
    } catch (...) {
        log(MGW_LOG_ERROR, "sip-front", "SIP event: unknown exception");
    }
}

void sofia_log(void *, char const *fmt, va_list ap)
{
    gchar *text = g_strdup_vprintf(fmt, ap);
    g_strchomp(text);
    log(MGW_LOG_DEBUG, "sofia", text);
    g_free(text);
}

} // namespace

SipFront::SipFront(Supervisor &supervisor, int retry_after) : supervisor_(supervisor), retry_after_(retry_after) {}

bool SipFront::start(const std::string &listen, std::string &error)
{
    std::string transport, hostport = listen;
    for (const char *t : {"udp:", "tcp:"})
        if (listen.rfind(t, 0) == 0) {
            transport = std::string(t, 3);
            hostport = listen.substr(4);
        }
    const std::string url = "sip:" + hostport + (transport.empty() ? "" : ";transport=" + transport);
    su_init();
    su_log_redirect(su_log_default, sofia_log, nullptr);
    su_log_redirect(nullptr, sofia_log, nullptr);
    root_ = su_glib_root_create(this);
    if (!root_) {
        error = "cannot create the Sofia-SIP root";
        return false;
    }
    su_root_threading(root_, 0);
    source_ = su_glib_root_gsource(root_);
    g_source_attach(source_, nullptr);
    nua_ = nua_create(root_, on_nua, this, NUTAG_URL(url.c_str()), NUTAG_MEDIA_ENABLE(0), NUTAG_AUTOANSWER(0),
                      NUTAG_APPL_METHOD("OPTIONS"), SIPTAG_ALLOW_STR("INVITE, ACK, CANCEL, OPTIONS"),
                      NUTAG_OUTBOUND("no-natify no-options-keepalive no-validate"), NUTAG_KEEPALIVE(0),
                      NTATAG_MAXSIZE(64 * 1024), SIPTAG_USER_AGENT_STR("mediagw-serve"), TAG_END());
    if (!nua_) {
        error = "cannot listen for SIP on " + url + " (address in use or not local?)";
        return false;
    }
    contact_ = url;
    log(MGW_LOG_INFO, "sip-front", "listening on " + url + " (redirect server)");
    return true;
}

SipFront::~SipFront()
{
    if (nua_) {
        nua_shutdown(nua_);
        for (int i = 0; i < 500 && !shut_down_; ++i) // bounded: 5 s at most
            if (!g_main_context_iteration(nullptr, FALSE))
                g_usleep(10 * 1000);
        if (shut_down_)
            nua_destroy(nua_);
    }
    if (source_)
        g_source_destroy(source_);
    if (root_ && (shut_down_ || !nua_))
        su_root_destroy(root_);
    su_deinit();
}

void SipFront::handle(nua_event_t event, int status, nua_handle_t *nh, const sip_t *sip, tagi_t tags[])
{
    switch (event) {
    case nua_i_invite:
        invite(nh, sip);
        break;
    case nua_i_options: {
        const bool ok = supervisor_.accepting();
        const std::string retry = std::to_string(retry_after_);
        nua_respond(nh, ok ? 200 : 503, ok ? "OK" : "Service Unavailable", NUTAG_WITH_THIS(nua_),
                    TAG_IF(!ok, SIPTAG_RETRY_AFTER_STR(retry.c_str())), TAG_END());
        nua_handle_destroy(nh);
        break;
    }
    case nua_i_state: {
        int state = nua_callstate_init;
        tl_gets(tags, NUTAG_CALLSTATE_REF(state), TAG_END());
        if (state == nua_callstate_terminated) {
            pending_.erase(nh);
            nua_handle_destroy(nh);
        }
        break;
    }
    case nua_r_shutdown:
        if (status >= 200)
            shut_down_ = true;
        break;
    default:
        break;
    }
}

void SipFront::invite(nua_handle_t *nh, const sip_t *sip)
{
    const char *user_c = sip && sip->sip_request && sip->sip_request->rq_url->url_user
                             ? sip->sip_request->rq_url->url_user
                             : "";
    const std::string user = user_c;
    const std::string call_id = sip && sip->sip_call_id && sip->sip_call_id->i_id ? sip->sip_call_id->i_id : "";
    const Template *t = supervisor_.route(user);
    if (!t) {
        supervisor_.count_refusal("no_template");
        log(MGW_LOG_INFO, "sip-front", "INVITE for '" + user + "': no template matches: 404");
        nua_respond(nh, SIP_404_NOT_FOUND, SIPTAG_WARNING_STR("399 mediagw \"no template for this user\""),
                    TAG_END());
        return;
    }
    pending_.insert(nh);
    supervisor_.reserve(*t, user, [this, nh, user, call_id, tname = t->name](const Supervisor::Decision &d) {
        if (!pending_.count(nh))
            return; // the caller gave up (CANCEL) meanwhile
        pending_.erase(nh);
        if (d.status == 302) {
            log(MGW_LOG_INFO, "sip-front", "INVITE " + call_id + " for '" + user + "' -> 302 " + d.contact);
            nua_respond(nh, SIP_302_MOVED_TEMPORARILY, SIPTAG_CONTACT_STR(("<" + d.contact + ">").c_str()),
                        TAG_END());
            return;
        }
        const std::string retry = std::to_string(retry_after_);
        std::string reason = d.reason; // a quoted-string: no quotes or backslashes inside
        for (char &c : reason)
            if (c == '"' || c == '\\' || c < 0x20)
                c = '\'';
        const std::string warning = "399 mediagw \"" + reason + "\"";
        log(MGW_LOG_INFO, "sip-front", "INVITE " + call_id + " for '" + user + "' (template " + tname +
                                           ") -> 503: " + d.reason);
        nua_respond(nh, SIP_503_SERVICE_UNAVAILABLE, SIPTAG_RETRY_AFTER_STR(retry.c_str()),
                    SIPTAG_WARNING_STR(warning.c_str()), TAG_END());
    });
}

} // namespace mediagw::serve
