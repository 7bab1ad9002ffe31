// The SIP user agent: Sofia-SIP nua on the GLib main loop, answering one
// call at a time. It knows SIP (dialogs, BYE, CANCEL, busy, shutdown), not
// media: the owner answers offers through Callbacks::offer.
#pragma once

#include <glib.h>

#include <functional>
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
        std::string sdp;          // empty when the INVITE has no body
        bool reinvite = false;
    };
    struct Answer {
        int status = 500;
        std::string phrase;  // "" = the standard one
        std::string warning; // text for a Warning header (why an offer was refused)
        std::string sdp;
    };
    // All called on the main loop; never during the destructor.
    struct Callbacks {
        std::function<void(const std::string &uri)> listening;
        std::function<Answer(const Offer &)> offer;
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
    bool start(const std::string &url, const std::string &user_agent, std::string &error);
    bool in_call() const { return call_ != nullptr; }
    // End the call with BYE; ended(reason) follows when the dialog is gone.
    void hangup(const std::string &reason);
    // Bounded drain: BYE (waiting briefly for its answer), then nua_shutdown;
    // shut_down() when complete.
    void shutdown();

    // For the nua callback only (`tags` is Sofia's tagi_t array).
    void handle(int event, int status, nua_handle_s *nh, const sip_s *sip, const void *tags);
    // For Sofia's log redirection only.
    void sofia_log_piece(const char *piece);

private:
    void incoming_invite(nua_handle_s *nh, const sip_s *sip);
    void call_state(nua_handle_s *nh, int status, const void *tags);
    void finish_shutdown();
    void log(int level, const std::string &m) const;

    Callbacks cb_;
    su_root_s *root_ = nullptr;
    GSource *source_ = nullptr;
    nua_s *nua_ = nullptr;
    nua_handle_s *call_ = nullptr;
    bool established_ = false;
    bool bye_sent_ = false;
    std::string end_reason_; // set by whoever ends the call first
    bool stopping_ = false;
    bool shutdown_started_ = false;
    bool shutdown_done_ = false;
    guint bye_timer_ = 0;
    std::string sofia_line_;
};

} // namespace sipsofia
