// The SIP user agent: Sofia-SIP nua on the GLib main loop, one call at a
// time (answered or placed), plus an optional registration. It knows SIP
// (dialogs, BYE, CANCEL, busy, REGISTER, digest, INFO, session timers,
// shutdown), not media: the owner gives and takes SDP through Callbacks.
#pragma once

#include "signalling/call_fields.hpp"
#include "signalling/call_policy.hpp"

#include <glib.h>

#include <functional>
#include <memory>
#include <string>

// Sofia types, kept opaque here so that only sip_agent.cpp sees its headers.
struct su_root_s;
struct nua_s;
struct nua_handle_s;
struct sip_s;

namespace sipsofia {

class SipAgent {
public:
    struct Offer {
        std::string from, to; // URIs
        std::string request_host; // host of the Request-URI: how the caller reached us
        std::string sdp;          // empty when the INVITE has no body: then Answer::sdp is our offer
        bool reinvite = false;    // also an UPDATE within the call
        CallFields fields;        // a new call's call-time values (call_fields.hpp)
    };
    // status 0 from the offer callback: the answer comes later, through
    // respond() (media still being prepared, e.g. a TURN allocation).
    struct Answer {
        int status = 500;
        std::string phrase;  // "" = the standard one
        std::string warning; // text for a Warning header (why an offer was refused)
        std::string sdp;
        bool ringing = false; // status 0 (answered later): send 180 meanwhile (a wait the caller should hear of)
    };
    // A registration (REGISTER refreshed by nua before it expires).
    struct Account {
        std::string aor;       // "sip:user@domain"
        std::string registrar; // URI; "" = the AoR's domain
        std::string username;  // digest user; "" = the AoR's user part
        std::string password;  // secret: never logged
        int expires = 600;
    };
    // All called on the main loop; never during the destructor.
    struct Callbacks {
        std::function<void(const std::string &uri)> listening;
        std::function<Answer(const Offer &)> offer;
        // The peer's SDP answer to our offer: in the ACK (delayed offer) or
        // in the 200 to our INVITE. false = unusable (the call is hung up).
        std::function<bool(const std::string &sdp)> answer;
        // An in-dialog INFO: returns the status to answer with.
        std::function<int(const std::string &content_type, const std::string &body)> info;
        // REGISTER outcomes: ok, or failed with a reason ("403 Forbidden").
        std::function<void(bool ok, const std::string &reason)> registration;
        std::function<void()> established;
        std::function<void(const std::string &reason)> ended;
        std::function<void()> shut_down;
        std::function<void(int level, const std::string &)> log; // mgw_log_level values
    };

    explicit SipAgent(Callbacks cb);
    ~SipAgent();
    SipAgent(const SipAgent &) = delete;
    SipAgent &operator=(const SipAgent &) = delete;

    // `url`: "sip:HOST:PORT;transport=udp" (PORT "*" = any free port).
    // `sips_url`: "" or "sips:HOST:PORT" with `cert_dir` (Sofia's agent.pem,
    // cafile.pem). `session_expires`: RFC 4028 interval in s, 0 = off.
    struct Transport {
        std::string url, sips_url, cert_dir;
        unsigned session_expires = 1800;
        unsigned answer_delay_ms = 0; // ring (180) this long before answering a new call
    };
    bool start(const Transport &t, const std::string &user_agent, std::string &error);
    bool in_call() const { return call_ != nullptr; }
    // An INVITE whose offer callback deferred its answer (status 0) waits.
    bool answer_pending() const { return pending_ != nullptr && pending_ == call_; }
    // Answers it now (main loop); nothing when it is gone (CANCEL, shutdown).
    void respond(const Answer &answer);
    bool established() const { return established_; }
    void set_policy(std::unique_ptr<CallPolicy> policy) { policy_ = std::move(policy); }
    // REGISTER now; unregistered during shutdown() (registration.cpp).
    void register_account(const Account &account);
    // Place the call: INVITE `uri` with `sdp` as the offer. ended() follows
    // if it fails; answer() then established() if it is answered.
    bool dial(const std::string &uri, const std::string &sdp, std::string &error);
    // An in-dialog INFO (DTMF, picture_fast_update). Main loop only.
    bool send_info(const std::string &content_type, const std::string &body);
    // End the call with BYE; ended(reason) follows when the dialog is gone.
    void hangup(const std::string &reason);
    static std::string reason_header(const std::string &reason);
    // Bounded drain: BYE (waiting briefly for its answer), unREGISTER (the
    // same), then nua_shutdown; shut_down() when complete.
    void shutdown();

    // For the nua callback only (`tags` is Sofia's tagi_t array).
    void handle(int event, int status, const char *phrase, nua_handle_s *nh, const sip_s *sip, const void *tags);
    // Sofia's callback context; outlives the agent while its stack shuts down.
    struct Stack {
        SipAgent *agent = nullptr; // nullptr once the agent is gone
        nua_s *nua = nullptr;
        su_root_s *root = nullptr;
        GSource *source = nullptr;
        bool reaping = false;
    };
    // For Sofia's log redirection only.
    void sofia_log_piece(const char *piece);

private:
    std::string request_source() const;
    void incoming_invite(nua_handle_s *nh, const sip_s *sip);
    void send_answer(nua_handle_s *nh, bool offer_had_sdp, bool reinvite, const Answer &a);
    void incoming_update(nua_handle_s *nh, const sip_s *sip);
    void incoming_info(nua_handle_s *nh, const sip_s *sip);
    void invite_answered(nua_handle_s *nh, int status, const sip_s *sip);
    // registration.cpp: REGISTER outcomes, digest answers (REGISTER and our INVITEs).
    void registered(int event, int status, const char *phrase, nua_handle_s *nh, const sip_s *sip);
    bool authenticate(nua_handle_s *nh, const sip_s *sip, int &tries);
    void call_state(nua_handle_s *nh, int status, const void *tags);
    void call_over(const std::string &reason);
    void drain();
    void arm_drain_timer(guint ms);
    void finish_shutdown();
    void log(int level, const std::string &m) const;

    Callbacks cb_;
    su_root_s *root_ = nullptr;
    GSource *source_ = nullptr;
    Stack *stack_ = nullptr; // Sofia's callback context (see ~SipAgent)
    nua_s *nua_ = nullptr;
    nua_handle_s *call_ = nullptr;
    bool outbound_ = false;         // call_ is one we placed
    bool awaiting_answer_ = false;  // our 2xx carried an offer: the ACK brings the answer
    int invite_auth_tries_ = 0;
    bool established_ = false;
    std::unique_ptr<CallPolicy> policy_;
    Account account_;
    nua_handle_s *reg_ = nullptr;
    bool registered_ = false;
    bool unregister_sent_ = false;
    int reg_auth_tries_ = 0;
    bool bye_sent_ = false;
    std::string end_reason_; // set by whoever ends the call first
    bool stopping_ = false;
    bool shutdown_started_ = false;
    bool shutdown_done_ = false;
    enum class Drain { None, Bye, Unregister, Done } drain_step_ = Drain::None;
    guint drain_timer_ = 0;
    unsigned answer_delay_ms_ = 0;
    guint answer_timer_ = 0;      // a delayed 200 (we ring first)
    std::string pending_sdp_;     // its body
    nua_handle_s *pending_ = nullptr; // an INVITE answered later (respond())
    bool pending_had_sdp_ = false, pending_reinvite_ = false;
    std::string sofia_line_;
    std::string plain_url_; // the sip: listen URL (for the log when TLS is on)
};

} // namespace sipsofia
