// The host's SIP front: a redirect server (RFC 3261 8.3), not a proxy, on
// Sofia-SIP nua on the GLib loop (as plugins/sip-sofia). INVITE -> 302 with
// the Contact of a reserved gateway of the template the request-URI's user
// selects, or 503 + Retry-After when the budget is exhausted or the host
// drains (never accepted and degraded), 404 when no template matches.
// OPTIONS -> 200, or 503 when full or draining: a dispatcher in front
// (Kamailio's, probing with OPTIONS) then skips this host.
#pragma once

#include <sofia-sip/nua.h>
#include <sofia-sip/su_glib.h>

#include <set>
#include <string>

namespace mediagw::serve {

class Supervisor;

class SipFront {
public:
    SipFront(Supervisor &supervisor, int retry_after);
    ~SipFront(); // shuts the stack down (bounded)
    SipFront(const SipFront &) = delete;

    // `listen`: "udp:HOST:PORT", "tcp:HOST:PORT" or "HOST:PORT" (both).
    bool start(const std::string &listen, std::string &error);
    const std::string &contact() const { return contact_; }

    void handle(nua_event_t event, int status, nua_handle_t *nh, const sip_t *sip, tagi_t tags[]);

private:
    void invite(nua_handle_t *nh, const sip_t *sip);

    Supervisor &supervisor_;
    int retry_after_;
    su_root_t *root_ = nullptr;
    GSource *source_ = nullptr;
    nua_t *nua_ = nullptr;
    bool shut_down_ = false;
    std::string contact_;
    std::set<nua_handle_t *> pending_; // INVITEs not answered yet (a cold start)
};

} // namespace mediagw::serve
