#include "signalling/sip_agent.hpp"

#include <mediagw/plugin.h>

#include <sofia-sip/msg_addr.h>
#include <sofia-sip/nta_tag.h>
#include <sofia-sip/nua.h>
#include <sofia-sip/nua_tag.h>
#include <sofia-sip/sip_header.h>
#include <sofia-sip/sip_status.h>
#include <sofia-sip/su_glib.h>
#include <sofia-sip/su_log.h>
#include <sofia-sip/su_tag.h>
#include <sofia-sip/tport_tag.h>
#include <sofia-sip/url.h>

#include <cstring>
#include <sofia-sip/msg_header.h>

#include "sdp/sdp_checks.hpp"
#include "signalling/sip_info.hpp"

namespace sipsofia {

namespace {

// Frees a Sofia stack on the main loop once its shutdown completed: nua_destroy()
// aborts before that, and waiting for it inside ~SipAgent by iterating the main
// loop ran every other node's callbacks while the gateway was being torn down.
gboolean reap(gpointer data)
{
    auto stack = static_cast<SipAgent::Stack *>(data);
    nua_destroy(stack->nua);
    g_source_destroy(stack->source);
    su_root_destroy(stack->root);
    su_deinit();
    delete stack;
    return G_SOURCE_REMOVE;
}

// Sofia's callback: to the agent while it lives; afterwards only the end of
// the shutdown matters. Nothing thrown crosses Sofia's C frames.
void on_nua(nua_event_t event, int status, char const *phrase, nua_t *, nua_magic_t *magic, nua_handle_t *nh,
            nua_hmagic_t *, sip_t const *sip, tagi_t tags[])
{
    auto stack = static_cast<SipAgent::Stack *>(magic);
    if (!stack->agent) {
        if (event == nua_r_shutdown && status >= 200 && !stack->reaping) {
            stack->reaping = true;
            g_idle_add(reap, stack); // not from inside nua's own callback
        }
        return;
    }
    try {
        stack->agent->handle(event, status, phrase, nh, sip, tags);
    } catch (const std::exception &e) {
        g_warning("sip-sofia: SIP event %d: %s", static_cast<int>(event), e.what());
    } catch (...) {
        g_warning("sip-sofia: SIP event %d: unknown exception", static_cast<int>(event));
    }
}

std::string body_of(const sip_t *sip)
{
    return sip && sip->sip_payload && sip->sip_payload->pl_data
               ? std::string(sip->sip_payload->pl_data, sip->sip_payload->pl_len)
               : std::string();
}

bool is_sdp(const sip_t *sip)
{
    return !sip->sip_content_type ||
           (sip->sip_content_type->c_type && g_ascii_strcasecmp(sip->sip_content_type->c_type, "application/sdp") == 0);
}

// 64 KiB: a SIP message with a large SDP (many codecs, ICE candidates) fits
// comfortably; beyond that it is a mistake or an attack.
constexpr unsigned kMaxMessageSize = 64 * 1024;
constexpr unsigned kIncompleteMessageMs = 10'000;
constexpr unsigned kIdleConnectionMs = 60'000;

const char *phrase_of(int status)
{
    const char *p = sip_status_phrase(status);
    return p ? p : "Error";
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
    for (guint *t : {&drain_timer_, &answer_timer_})
        if (*t)
            g_source_remove(*t);
    if (su_log_default->log_stream == this)
        su_log_redirect(su_log_default, nullptr, nullptr);
    if (!nua_) {
        if (source_)
            g_source_destroy(source_);
        if (root_) {
            su_root_destroy(root_);
            su_deinit();
        }
        delete stack_;
        return;
    }
    // The core's drain normally completed the shutdown (shutdown_done_);
    // otherwise the stack finishes it on the main loop by itself (reap()),
    // or stays allocated if it never does.
    if (!shutdown_started_)
        nua_shutdown(nua_);
    stack_->agent = nullptr;
    stack_->nua = nua_;
    stack_->root = root_;
    stack_->source = source_;
    if (shutdown_done_) {
        stack_->reaping = true;
        reap(stack_);
    }
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

bool SipAgent::start(const Transport &t, const std::string &user_agent, std::string &error)
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
    answer_delay_ms_ = t.answer_delay_ms;

    stack_ = new Stack{this};
    nua_ = nua_create(root_, on_nua, stack_, NUTAG_URL(t.url.c_str()),
                      TAG_IF(!t.sips_url.empty(), NUTAG_SIPS_URL(t.sips_url.c_str())),
                      TAG_IF(!t.cert_dir.empty(), NUTAG_CERTIFICATE_DIR(t.cert_dir.c_str())),
                      NUTAG_MEDIA_ENABLE(0), // SDP is ours (GstSdpMessage), not Sofia's SOA
                      NUTAG_AUTOANSWER(0),
                      // INFO and UPDATE carry what only we can answer (DTMF, SDP).
                      NUTAG_APPL_METHOD("INFO, UPDATE"),
                      SIPTAG_ALLOW_STR("INVITE, ACK, BYE, CANCEL, OPTIONS, INFO, UPDATE"),
                      // RFC 4028: our own refreshes go as UPDATE without SDP,
                      // which needs no offer/answer from us.
                      NUTAG_SESSION_TIMER(t.session_expires), NUTAG_MIN_SE(90), NUTAG_UPDATE_REFRESH(1),
                      // No NAT probing (OPTIONS keepalives, Contact rewriting).
                      NUTAG_OUTBOUND("no-natify no-options-keepalive no-validate"), NUTAG_KEEPALIVE(0),
                      // Larger requests get 413 from the stack (default 2 MB).
                      NTATAG_MAXSIZE(kMaxMessageSize),
                      // A TCP/TLS peer that sends half a message is cut after
                      // 10 s, and a connection idle for 60 s is closed, also
                      // one the peer closed after garbage (Sofia leaves those
                      // in CLOSE-WAIT, and its defaults are forever: any client
                      // could hold file descriptors until none are left). A
                      // connection that never sends a byte is not timed out
                      // by Sofia: README, Security.
                      TPTAG_TIMEOUT(kIncompleteMessageMs), TPTAG_IDLE(kIdleConnectionMs), TPTAG_SDWN_ERROR(1),
                      TAG_IF(!user_agent.empty(), SIPTAG_USER_AGENT_STR(user_agent.c_str())), TAG_END());
    if (!nua_) {
        error = "cannot listen on " + t.url + (t.sips_url.empty() ? "" : " and " + t.sips_url) +
                " (address in use or not local? certificate unreadable?)";
        return false;
    }
    plain_url_ = t.url;
    // The bound port (for PORT "*") arrives with nua_r_get_params.
    nua_get_params(nua_, TAG_ANY(), TAG_END());
    return true;
}

void SipAgent::handle(int event, int status, const char *phrase, nua_handle_t *nh, const sip_t *sip,
                      const void *tags_ptr)
{
    auto tags = static_cast<const tagi_t *>(tags_ptr);
    switch (event) {
    case nua_r_get_params: {
        sip_contact_t const *m = nullptr;
        tl_gets(tags, NTATAG_CONTACT_REF(m), TAG_END());
        if (!m || !m->m_url->url_host || !cb_.listening)
            break;
        const std::string host_port = std::string(m->m_url->url_host) + ":" +
                                      (m->m_url->url_port ? m->m_url->url_port : "5060");
        const bool tls = m->m_url->url_type == url_sips || (m->m_url->url_params &&
                                                            strstr(m->m_url->url_params, "transport=tls"));
        if (!tls) {
            cb_.listening("sip:" + host_port);
            break;
        }
        // With TLS the stack's Contact is the TLS one: report it as sips:
        // and the plain transport from its configured URL (a chosen port,
        // "*", cannot be read back then: give one).
        log(MGW_LOG_INFO, "listening on sips:" + host_port + " (TLS)");
        const url_t *u = url_hdup(nullptr, URL_STRING_MAKE(plain_url_.c_str())->us_url);
        if (u && u->url_host && u->url_port && std::string(u->url_port) != "*")
            cb_.listening(std::string("sip:") + u->url_host + ":" + u->url_port);
        else
            log(MGW_LOG_WARNING, "with TLS, give the plain listen port explicitly to have it logged");
        su_free(nullptr, const_cast<url_t *>(u));
        break;
    }
    case nua_i_invite:
        incoming_invite(nh, sip);
        break;
    case nua_r_invite:
        invite_answered(nh, status, sip);
        break;
    case nua_i_ack:
        if (nh == call_ && awaiting_answer_) {
            awaiting_answer_ = false;
            const std::string sdp = sip && is_sdp(sip) ? body_of(sip) : "";
            if (sdp.empty() || !cb_.answer || !cb_.answer(sdp)) {
                log(MGW_LOG_WARNING, sdp.empty() ? "the ACK carries no answer to our offer: hanging up"
                                                 : "the answer in the ACK is unusable: hanging up");
                hangup("error 488");
            }
        }
        break;
    case nua_i_update:
        incoming_update(nh, sip);
        break;
    case nua_i_info:
        incoming_info(nh, sip);
        break;
    case nua_r_info:
        log(status >= 300 ? MGW_LOG_WARNING : MGW_LOG_DEBUG,
            "INFO answered " + std::to_string(status) + " " + (phrase ? phrase : ""));
        break;
    case nua_r_register:
    case nua_r_unregister:
        registered(event, status, phrase, nh, sip);
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
        if (nh != call_ && nh != reg_)
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

// The address the request being handled came from (its packet's source,
// not anything it says about itself); "" when the stack does not know.
std::string SipAgent::request_source() const
{
    msg_t *msg = nua_current_request(nua_);
    su_sockaddr_t su{};
    socklen_t len = sizeof su;
    if (!msg || msg_get_address(msg, &su, &len) < 0)
        return "";
    GSocketAddress *sa = g_socket_address_new_from_native(&su, len);
    std::string text;
    if (sa && G_IS_INET_SOCKET_ADDRESS(sa)) {
        gchar *s = g_inet_address_to_string(g_inet_socket_address_get_address(G_INET_SOCKET_ADDRESS(sa)));
        text = s;
        g_free(s);
    }
    if (sa)
        g_object_unref(sa);
    return text;
}

void SipAgent::incoming_invite(nua_handle_t *nh, const sip_t *sip)
{
    const bool reinvite = nh == call_;
    const std::string from = sip && sip->sip_from ? url_text(sip->sip_from->a_url) : "?";
    // Who may call first: a stranger learns nothing, not even that a call is up.
    if (!reinvite && policy_) {
        CallPolicy::Verdict v = policy_->check(sip, request_source(), g_get_monotonic_time());
        if (v.status != 200) {
            log(MGW_LOG_INFO, "INVITE from " + from + ": " + std::to_string(v.status) + " (" + v.why + ")");
            nua_respond(nh, v.status, phrase_of(v.status),
                        TAG_IF(!v.challenge.empty(), SIPTAG_WWW_AUTHENTICATE_STR(v.challenge.c_str())), TAG_END());
            return;
        }
    }
    if (!reinvite && (call_ || stopping_)) {
        // One call at a time; the handle is freed at its terminated state.
        log(MGW_LOG_INFO, "rejecting an INVITE from " + from + (stopping_ ? ": shutting down" : ": a call is up (486)"));
        if (stopping_)
            nua_respond(nh, SIP_503_SERVICE_UNAVAILABLE, TAG_END());
        else
            nua_respond(nh, SIP_486_BUSY_HERE, TAG_END());
        return;
    }
    if (sip && sip->sip_payload && sip->sip_payload->pl_len && !is_sdp(sip)) {
        log(MGW_LOG_INFO, "refusing an INVITE whose body is not SDP (415)");
        nua_respond(nh, SIP_415_UNSUPPORTED_MEDIA, SIPTAG_ACCEPT_STR("application/sdp"), TAG_END());
        return;
    }
    Offer offer;
    offer.reinvite = reinvite;
    if (sip) {
        offer.from = from;
        if (sip->sip_to)
            offer.to = url_text(sip->sip_to->a_url);
        if (sip->sip_request && sip->sip_request->rq_url->url_host)
            offer.request_host = sip->sip_request->rq_url->url_host;
        offer.sdp = body_of(sip);
        if (!reinvite)
            offer.fields = call_fields(sip, request_source());
    }
    std::string why;
    if (const int bad = offer.sdp.empty() ? 0 : sdp_check(offer.sdp, why)) {
        log(MGW_LOG_INFO, "refusing the " + std::string(reinvite ? "re-" : "") + "INVITE from " + from + ": " +
                              std::to_string(bad) + " (" + why + ")");
        nua_respond(nh, bad, phrase_of(bad), SIPTAG_WARNING_STR(warning_header(why).c_str()), TAG_END());
        return;
    }
    if (!reinvite) {
        call_ = nh;
        outbound_ = false;
        established_ = false;
        bye_sent_ = false;
        end_reason_.clear();
    }
    Answer a = cb_.offer ? cb_.offer(offer) : Answer{};
    if (a.status == 0) {
        pending_ = nh;
        pending_had_sdp_ = !offer.sdp.empty();
        pending_reinvite_ = reinvite;
        if (a.ringing && !reinvite)
            nua_respond(nh, SIP_180_RINGING, TAG_END());
        return;
    }
    send_answer(nh, !offer.sdp.empty(), reinvite, a);
}

void SipAgent::respond(const Answer &a)
{
    if (!answer_pending())
        return;
    nua_handle_t *nh = pending_;
    pending_ = nullptr;
    send_answer(nh, pending_had_sdp_, pending_reinvite_, a);
}

void SipAgent::send_answer(nua_handle_t *nh, bool offer_had_sdp, bool reinvite, const Answer &a)
{
    const char *phrase = a.phrase.empty() ? phrase_of(a.status) : a.phrase.c_str();
    if (a.status >= 200 && a.status < 300) {
        // No SDP in the INVITE: ours is the offer, the ACK brings the answer.
        awaiting_answer_ = !offer_had_sdp && !a.sdp.empty();
        if (!reinvite && answer_delay_ms_ > 0) {
            nua_respond(nh, SIP_180_RINGING, TAG_END());
            pending_sdp_ = a.sdp;
            answer_timer_ = g_timeout_add(
                answer_delay_ms_,
                [](gpointer p) {
                    auto self = static_cast<SipAgent *>(p);
                    self->answer_timer_ = 0;
                    if (self->call_ && !self->bye_sent_)
                        nua_respond(self->call_, SIP_200_OK, SIPTAG_CONTENT_TYPE_STR("application/sdp"),
                                    SIPTAG_PAYLOAD_STR(self->pending_sdp_.c_str()), TAG_END());
                    return G_SOURCE_REMOVE;
                },
                this);
            return;
        }
        nua_respond(nh, a.status, phrase, TAG_IF(!a.sdp.empty(), SIPTAG_CONTENT_TYPE_STR("application/sdp")),
                    TAG_IF(!a.sdp.empty(), SIPTAG_PAYLOAD_STR(a.sdp.c_str())), TAG_END());
        return;
    }
    const std::string warning = warning_header(a.warning);
    log(MGW_LOG_INFO, "refusing the " + std::string(reinvite ? "re-" : "") + "INVITE: " + std::to_string(a.status) +
                          " " + phrase + (a.warning.empty() ? "" : " (" + a.warning + ")"));
    if (!reinvite && end_reason_.empty())
        end_reason_ = "error " + std::to_string(a.status);
    nua_respond(nh, a.status, phrase, TAG_IF(!a.warning.empty(), SIPTAG_WARNING_STR(warning.c_str())), TAG_END());
}

void SipAgent::incoming_update(nua_handle_t *nh, const sip_t *sip)
{
    if (nh != call_) {
        // Outside our dialog: the handle is a new one, ours to free.
        nua_respond(nh, SIP_481_NO_TRANSACTION, NUTAG_WITH_THIS(nua_), TAG_END());
        if (nh != reg_)
            nua_handle_destroy(nh);
        return;
    }
    const std::string sdp = sip && is_sdp(sip) ? body_of(sip) : "";
    if (sdp.empty()) { // a session refresh
        nua_respond(nh, SIP_200_OK, NUTAG_WITH_THIS(nua_), TAG_END());
        return;
    }
    std::string why;
    if (const int bad = sdp_check(sdp, why)) {
        nua_respond(nh, bad, phrase_of(bad), NUTAG_WITH_THIS(nua_), SIPTAG_WARNING_STR(warning_header(why).c_str()),
                    TAG_END());
        return;
    }
    Offer offer;
    offer.reinvite = true;
    offer.sdp = sdp;
    if (sip && sip->sip_from)
        offer.from = url_text(sip->sip_from->a_url);
    Answer a = cb_.offer ? cb_.offer(offer) : Answer{};
    if (a.status == 0) // an UPDATE is answered at once: within a call the media is ready
        a = Answer{500, "", "media not ready", ""};
    if (a.status >= 200 && a.status < 300)
        nua_respond(nh, a.status, phrase_of(a.status), NUTAG_WITH_THIS(nua_),
                    SIPTAG_CONTENT_TYPE_STR("application/sdp"), SIPTAG_PAYLOAD_STR(a.sdp.c_str()), TAG_END());
    else
        nua_respond(nh, a.status, phrase_of(a.status), NUTAG_WITH_THIS(nua_), TAG_END());
}

void SipAgent::incoming_info(nua_handle_t *nh, const sip_t *sip)
{
    if (nh != call_) {
        nua_respond(nh, 481, "Call/Transaction Does Not Exist", NUTAG_WITH_THIS(nua_), TAG_END());
        if (nh != reg_)
            nua_handle_destroy(nh);
        return;
    }
    const std::string type =
        sip && sip->sip_content_type && sip->sip_content_type->c_type ? sip->sip_content_type->c_type : "";
    const int status = cb_.info ? cb_.info(type, body_of(sip)) : 415;
    nua_respond(nh, status, phrase_of(status), NUTAG_WITH_THIS(nua_),
                TAG_IF(status == 415, SIPTAG_ACCEPT_STR(kInfoAccept)), TAG_END());
}

void SipAgent::invite_answered(nua_handle_t *nh, int status, const sip_t *sip)
{
    if (nh != call_ || !outbound_)
        return;
    if ((status == 401 || status == 407) && authenticate(nh, sip, invite_auth_tries_))
        return;
    if (status >= 200 && status < 300) {
        const std::string sdp = sip && is_sdp(sip) ? body_of(sip) : "";
        if (sdp.empty() || !cb_.answer || !cb_.answer(sdp)) {
            log(MGW_LOG_WARNING, "the 200 to our INVITE has no usable answer: hanging up");
            hangup("error 488");
        }
    } else if (status >= 300 && end_reason_.empty()) {
        end_reason_ = "error " + std::to_string(status);
    }
}

bool SipAgent::dial(const std::string &uri, const std::string &sdp, std::string &error)
{
    if (!nua_ || call_ || stopping_) {
        error = call_ ? "a call is up" : "the SIP stack is not running";
        return false;
    }
    nua_handle_t *nh = nua_handle(nua_, this, SIPTAG_TO_STR(uri.c_str()),
                                  TAG_IF(!account_.aor.empty(), SIPTAG_FROM_STR(account_.aor.c_str())), TAG_END());
    if (!nh) {
        error = "cannot make a call handle for " + uri;
        return false;
    }
    call_ = nh;
    outbound_ = true;
    established_ = false;
    bye_sent_ = false;
    awaiting_answer_ = false;
    invite_auth_tries_ = 0;
    end_reason_.clear();
    log(MGW_LOG_INFO, "calling " + uri);
    nua_invite(nh, SIPTAG_CONTENT_TYPE_STR("application/sdp"), SIPTAG_PAYLOAD_STR(sdp.c_str()), TAG_END());
    return true;
}

bool SipAgent::send_info(const std::string &content_type, const std::string &body)
{
    if (!call_ || !established_ || bye_sent_)
        return false;
    nua_info(call_, SIPTAG_CONTENT_TYPE_STR(content_type.c_str()), SIPTAG_PAYLOAD_STR(body.c_str()), TAG_END());
    return true;
}

void SipAgent::call_state(nua_handle_t *nh, int status, const void *tags_ptr)
{
    int state = nua_callstate_init;
    tl_gets(static_cast<const tagi_t *>(tags_ptr), NUTAG_CALLSTATE_REF(state), TAG_END());
    if (nh != call_) {
        if (state == nua_callstate_terminated)
            nua_handle_destroy(nh); // a refused INVITE (486, 403, 401...)
        return;
    }
    if (state == nua_callstate_ready && !established_) {
        established_ = true;
        if (cb_.established)
            cb_.established();
    } else if (state == nua_callstate_terminated) {
        nua_handle_destroy(nh);
        call_over(end_reason_.empty() ? "error " + std::to_string(status) : end_reason_);
        if (stopping_)
            drain();
    }
}

// The call is over for the gateway: the slot is free for the next one and
// the owner is told. A BYE of ours may still be on its way (its handle is
// freed at its terminated state, as any handle that is not the call's).
void SipAgent::call_over(const std::string &reason)
{
    if (answer_timer_) {
        g_source_remove(answer_timer_);
        answer_timer_ = 0;
    }
    if (pending_ == call_)
        pending_ = nullptr;
    call_ = nullptr;
    outbound_ = false;
    awaiting_answer_ = false;
    established_ = false;
    if (cb_.ended)
        cb_.ended(reason);
}

void SipAgent::hangup(const std::string &reason)
{
    if (!call_ || bye_sent_)
        return;
    if (end_reason_.empty())
        end_reason_ = reason;
    bye_sent_ = true;
    // Not answered yet: refused instead, the Reason saying why (RFC 6432: Reason in responses).
    const std::string header = reason_header(reason);
    if (answer_pending()) { // still preparing the answer (media, or an answer_on event)
        pending_ = nullptr;
        nua_respond(call_, SIP_480_TEMPORARILY_UNAVAILABLE, SIPTAG_REASON_STR(header.c_str()), TAG_END());
    } else if (answer_timer_) { // still ringing: refuse instead of answering
        g_source_remove(answer_timer_);
        answer_timer_ = 0;
        nua_respond(call_, SIP_480_TEMPORARILY_UNAVAILABLE, SIPTAG_REASON_STR(header.c_str()), TAG_END());
    } else if (outbound_ && !established_) {
        nua_cancel(call_, TAG_END());
    } else {
        // Ended once our BYE leaves: a peer that is gone (the usual reason
        // for an rtp-timeout) would otherwise hold this one-call gateway
        // until the BYE times out (Timer F, 32 s).
        nua_bye(call_, SIPTAG_REASON_STR(header.c_str()), TAG_END());
        call_over(end_reason_);
    }
}

// RFC 3326 Reason for our BYE: why the gateway hung up, as Q.850 normal
// clearing (or the SIP code that ended it) plus our own words.
std::string SipAgent::reason_header(const std::string &reason)
{
    std::string text;
    for (char c : reason)
        if (c != '"' && c != '\\' && (unsigned char)c >= 0x20)
            text += c;
    if (reason.rfind("error ", 0) == 0)
        return "SIP;cause=" + reason.substr(6, 3) + ";text=\"" + text + "\"";
    return std::string("Q.850;cause=") + (reason == "rtp-timeout" ? "102" : "16") + ";text=\"" + text + "\"";
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
    drain();
}

void SipAgent::arm_drain_timer(guint ms)
{
    if (drain_timer_)
        g_source_remove(drain_timer_);
    drain_timer_ = g_timeout_add(
        ms,
        [](gpointer p) {
            auto self = static_cast<SipAgent *>(p);
            self->drain_timer_ = 0; // the step waited long enough
            self->drain();
            return G_SOURCE_REMOVE;
        },
        this);
}

// The goodbyes, one step at a time, each waiting briefly for its answer:
// BYE (or CANCEL) of a call, then un-REGISTER, then nua_shutdown (which
// ends whatever is left).
void SipAgent::drain()
{
    if (drain_step_ == Drain::None) {
        drain_step_ = Drain::Bye;
        if (call_) {
            hangup("shutdown");
            if (call_) { // a CANCEL or a refusal still being answered
                arm_drain_timer(1000);
                return;
            }
        }
    }
    if (drain_step_ == Drain::Bye) {
        if (call_ && drain_timer_)
            return;
        drain_step_ = Drain::Unregister;
        if (reg_ && registered_) {
            unregister_sent_ = true;
            log(MGW_LOG_INFO, "unregistering " + account_.aor);
            nua_unregister(reg_, TAG_END());
            arm_drain_timer(2000);
            return;
        }
    }
    if (drain_step_ == Drain::Unregister) {
        if (registered_ && drain_timer_)
            return;
        drain_step_ = Drain::Done;
        finish_shutdown();
    }
}

void SipAgent::finish_shutdown()
{
    if (drain_timer_) {
        g_source_remove(drain_timer_);
        drain_timer_ = 0;
    }
    if (shutdown_started_)
        return;
    shutdown_started_ = true;
    nua_shutdown(nua_);
}

} // namespace sipsofia
