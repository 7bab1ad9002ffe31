#include "sip_agent.hpp"

#include <mediagw/plugin.h>

#include <sofia-sip/nta_tag.h>
#include <sofia-sip/nua.h>
#include <sofia-sip/nua_tag.h>
#include <sofia-sip/sip_header.h>
#include <sofia-sip/sip_status.h>
#include <sofia-sip/su_glib.h>
#include <sofia-sip/su_log.h>
#include <sofia-sip/su_tag.h>
#include <sofia-sip/url.h>

namespace sipsofia {

namespace {

void on_nua(nua_event_t event, int status, char const *, nua_t *, nua_magic_t *magic, nua_handle_t *nh,
            nua_hmagic_t *, sip_t const *sip, tagi_t tags[])
{
    static_cast<SipAgent *>(magic)->handle(event, status, nh, sip, tags);
}

std::string url_text(const url_t *url)
{
    if (!url)
        return "";
    auto home = static_cast<su_home_t *>(su_home_new(sizeof(su_home_t)));
    char *s = url_as_string(home, url);
    std::string out = s ? s : "";
    su_home_unref(home);
    return out;
}

// Sofia's own diagnostics go to our log (debug level) instead of stderr.
// Its messages come in pieces; a line is logged at its newline.
void sofia_log(void *stream, char const *fmt, va_list ap)
{
    auto self = static_cast<SipAgent *>(stream);
    char *piece = g_strdup_vprintf(fmt, ap);
    self->sofia_log_piece(piece);
    g_free(piece);
}

// A Warning header's text is a quoted string.
std::string warning_header(const std::string &text)
{
    std::string t;
    for (char c : text)
        t += (c == '"' || c == '\\' || c == '\r' || c == '\n') ? '\'' : c;
    return "399 mediagw \"" + t + "\"";
}

} // namespace

SipAgent::SipAgent(Callbacks cb) : cb_(std::move(cb)) {}

SipAgent::~SipAgent()
{
    // The owner is going away: from here on only log.
    Callbacks quiet;
    quiet.log = cb_.log;
    quiet.offer = [](const Offer &) { return Answer{503, "", "shutting down", ""}; };
    cb_ = std::move(quiet);
    if (bye_timer_)
        g_source_remove(bye_timer_);
    bool destroyed = true;
    if (nua_) {
        // nua_destroy() aborts unless nua_shutdown() has completed: wait for
        // it here when the core's drain did not (bounded, on the default
        // context that Sofia's GSource is attached to).
        if (!shutdown_started_) {
            shutdown_started_ = true;
            nua_shutdown(nua_);
        }
        bool expired = false;
        guint deadline = g_timeout_add(
            5000,
            [](gpointer p) {
                *static_cast<bool *>(p) = true;
                return G_SOURCE_REMOVE;
            },
            &expired);
        while (!shutdown_done_ && !expired)
            g_main_context_iteration(nullptr, TRUE);
        if (!expired)
            g_source_remove(deadline);
        if (shutdown_done_) {
            nua_destroy(nua_);
        } else {
            destroyed = false;
            log(MGW_LOG_WARNING, "the SIP stack did not shut down in time; leaving it allocated");
        }
        nua_ = nullptr;
    }
    if (source_)
        g_source_destroy(source_);
    if (root_ && destroyed)
        su_root_destroy(root_);
    if (su_log_default->log_stream == this)
        su_log_redirect(su_log_default, nullptr, nullptr);
    if (root_)
        su_deinit();
}

void SipAgent::log(int level, const std::string &m) const
{
    if (cb_.log)
        cb_.log(level, m);
}

void SipAgent::sofia_log_piece(const char *piece)
{
    sofia_line_ += piece;
    for (auto nl = sofia_line_.find('\n'); nl != std::string::npos; nl = sofia_line_.find('\n')) {
        if (nl > 0)
            log(MGW_LOG_DEBUG, "sofia: " + sofia_line_.substr(0, nl));
        sofia_line_.erase(0, nl + 1);
    }
}

bool SipAgent::start(const std::string &url, const std::string &user_agent, std::string &error)
{
    su_init();
    su_log_redirect(su_log_default, sofia_log, this);
    root_ = su_glib_root_create(this);
    if (!root_) {
        su_deinit();
        error = "cannot create the Sofia-SIP root";
        return false;
    }
    // The nua stack then shares the root's GSource: all of SIP runs on the
    // GLib main loop, with no thread of its own.
    su_root_threading(root_, 0);
    source_ = su_glib_root_gsource(root_);
    g_source_attach(source_, nullptr);

    nua_ = nua_create(root_, on_nua, this, NUTAG_URL(url.c_str()),
                      NUTAG_MEDIA_ENABLE(0), // SDP is ours (GstSdpMessage), not Sofia's SOA
                      NUTAG_AUTOANSWER(0), SIPTAG_ALLOW_STR("INVITE, ACK, BYE, CANCEL, OPTIONS"),
                      TAG_IF(!user_agent.empty(), SIPTAG_USER_AGENT_STR(user_agent.c_str())), TAG_END());
    if (!nua_) {
        error = "cannot listen on " + url + " (address in use or not local?)";
        return false;
    }
    // The bound port (for PORT "*") arrives with nua_r_get_params.
    nua_get_params(nua_, TAG_ANY(), TAG_END());
    return true;
}

void SipAgent::handle(int event, int status, nua_handle_t *nh, const sip_t *sip, const void *tags_ptr)
{
    auto tags = static_cast<const tagi_t *>(tags_ptr);
    switch (event) {
    case nua_r_get_params: {
        sip_contact_t const *m = nullptr;
        tl_gets(tags, NTATAG_CONTACT_REF(m), TAG_END());
        if (m && cb_.listening)
            cb_.listening(std::string("sip:") + m->m_url->url_host + ":" +
                          (m->m_url->url_port ? m->m_url->url_port : "5060"));
        break;
    }
    case nua_i_invite:
        incoming_invite(nh, sip);
        break;
    case nua_i_state:
        call_state(nh, status, tags);
        break;
    case nua_i_bye:
        if (nh == call_ && end_reason_.empty())
            end_reason_ = "bye";
        break;
    case nua_i_cancel:
        if (nh == call_ && end_reason_.empty())
            end_reason_ = "cancel";
        break;
    case nua_r_bye:
        log(MGW_LOG_DEBUG, "BYE answered " + std::to_string(status));
        break;
    case nua_i_options:
        // Answered 200 by the stack; the handle is ours to free.
        if (nh != call_)
            nua_handle_destroy(nh);
        break;
    case nua_r_shutdown:
        if (status >= 200 && !shutdown_done_) {
            shutdown_done_ = true;
            if (cb_.shut_down)
                cb_.shut_down();
        }
        break;
    case nua_i_error:
        log(MGW_LOG_WARNING, "SIP stack error " + std::to_string(status));
        break;
    default:
        break;
    }
}

void SipAgent::incoming_invite(nua_handle_t *nh, const sip_t *sip)
{
    const bool reinvite = nh == call_;
    if (!reinvite && (call_ || stopping_)) {
        // One call at a time; the handle is freed at its terminated state.
        log(MGW_LOG_INFO, std::string("rejecting an INVITE from ") +
                              (sip && sip->sip_from ? url_text(sip->sip_from->a_url) : "?") +
                              (stopping_ ? ": shutting down" : ": a call is up (486)"));
        if (stopping_)
            nua_respond(nh, SIP_503_SERVICE_UNAVAILABLE, TAG_END());
        else
            nua_respond(nh, SIP_486_BUSY_HERE, TAG_END());
        return;
    }
    Offer offer;
    offer.reinvite = reinvite;
    if (sip) {
        if (sip->sip_from)
            offer.from = url_text(sip->sip_from->a_url);
        if (sip->sip_to)
            offer.to = url_text(sip->sip_to->a_url);
        if (sip->sip_request && sip->sip_request->rq_url->url_host)
            offer.request_host = sip->sip_request->rq_url->url_host;
        const bool sdp = !sip->sip_content_type ||
                         (sip->sip_content_type->c_type && g_ascii_strcasecmp(sip->sip_content_type->c_type, "application/sdp") == 0);
        if (sip->sip_payload && sdp)
            offer.sdp.assign(sip->sip_payload->pl_data, sip->sip_payload->pl_len);
    }
    if (!reinvite) {
        call_ = nh;
        established_ = false;
        bye_sent_ = false;
        end_reason_.clear();
    }
    Answer a = cb_.offer ? cb_.offer(offer) : Answer{};
    const char *phrase = a.phrase.empty() ? sip_status_phrase(a.status) : a.phrase.c_str();
    if (!phrase)
        phrase = "Error";
    if (a.status >= 200 && a.status < 300) {
        nua_respond(nh, a.status, phrase, SIPTAG_CONTENT_TYPE_STR("application/sdp"),
                    SIPTAG_PAYLOAD_STR(a.sdp.c_str()), TAG_END());
        return;
    }
    const std::string warning = warning_header(a.warning);
    log(MGW_LOG_INFO, "refusing the " + std::string(reinvite ? "re-" : "") + "INVITE: " + std::to_string(a.status) +
                          " " + phrase + (a.warning.empty() ? "" : " (" + a.warning + ")"));
    if (!reinvite && end_reason_.empty())
        end_reason_ = "error " + std::to_string(a.status);
    nua_respond(nh, a.status, phrase, TAG_IF(!a.warning.empty(), SIPTAG_WARNING_STR(warning.c_str())), TAG_END());
}

void SipAgent::call_state(nua_handle_t *nh, int status, const void *tags_ptr)
{
    int state = nua_callstate_init;
    tl_gets(static_cast<const tagi_t *>(tags_ptr), NUTAG_CALLSTATE_REF(state), TAG_END());
    if (nh != call_) {
        if (state == nua_callstate_terminated)
            nua_handle_destroy(nh); // a refused INVITE (486)
        return;
    }
    if (state == nua_callstate_ready && !established_) {
        established_ = true;
        if (cb_.established)
            cb_.established();
    } else if (state == nua_callstate_terminated) {
        std::string reason = end_reason_.empty() ? "error " + std::to_string(status) : end_reason_;
        nua_handle_destroy(nh);
        call_ = nullptr;
        established_ = false;
        if (cb_.ended)
            cb_.ended(reason);
        if (stopping_)
            finish_shutdown();
    }
}

void SipAgent::hangup(const std::string &reason)
{
    if (!call_ || bye_sent_)
        return;
    if (end_reason_.empty())
        end_reason_ = reason;
    bye_sent_ = true;
    nua_bye(call_, TAG_END());
}

void SipAgent::shutdown()
{
    if (stopping_)
        return;
    stopping_ = true;
    if (!nua_) {
        shutdown_done_ = true;
        if (cb_.shut_down)
            cb_.shut_down();
        return;
    }
    if (call_) {
        hangup("shutdown");
        // Wait briefly for the BYE's answer; nua_shutdown ends whatever is left.
        bye_timer_ = g_timeout_add(
            1000,
            [](gpointer p) {
                auto self = static_cast<SipAgent *>(p);
                self->bye_timer_ = 0;
                self->finish_shutdown();
                return G_SOURCE_REMOVE;
            },
            this);
        return;
    }
    finish_shutdown();
}

void SipAgent::finish_shutdown()
{
    if (bye_timer_) {
        g_source_remove(bye_timer_);
        bye_timer_ = 0;
    }
    if (shutdown_started_)
        return;
    shutdown_started_ = true;
    nua_shutdown(nua_);
}

} // namespace sipsofia
