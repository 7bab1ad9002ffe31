// The client half of WHIP/WHEP (libsoup 3 on the main loop): POST the offer
// (bearer token, to the configured origin only; 307/308 redirects followed
// with the body), remember the
// session resource from Location, trickle later candidates to it with PATCH
// (RFC 8840 fragments, If-Match with the 201's ETag), DELETE it when done.
// No a=end-of-candidates is sent: a TURN server from the 201's Link headers
// gathers after webrtcbin has already reported gathering complete.
#pragma once

#include "common/guard.hpp"
#include "whip_whep/trickle_fragment.hpp"

#include <libsoup/soup.h>

#include <functional>
#include <string>
#include <utility>
#include <vector>

namespace webrtcdirect {

class SessionResource {
public:
    struct Reply {
        int status = 0;        // 0: no HTTP answer (connection failed, timeout)
        std::string reason;    // status line or transport error
        std::string body;
        std::string location;  // absolute URL of the session resource
        std::string etag;
        std::vector<std::string> links; // every Link header field, as sent
    };
    using Log = std::function<void(const std::string &)>;

    // Answers over kMaxAnswer are not read (the request fails naming the URL).
    static constexpr gsize kMaxAnswer = 64 * 1024;

    // `fail`: the node's failure, for an exception in a libsoup callback.
    SessionResource(std::string url, std::string token, Log log, Fail fail, guint timeout_s = 10);
    ~SessionResource();
    SessionResource(const SessionResource &) = delete;
    SessionResource &operator=(const SessionResource &) = delete;

    void create(const std::string &offer_sdp, std::function<void(const Reply &)> done);
    // A local candidate gathered after the offer went out ("candidate:..."
    // of m-line `mline`): PATCHed once the resource exists, batched while a
    // PATCH is under way. A server refusing PATCH (405, 501) ends trickling.
    void trickle(guint mline, const std::string &candidate);
    // DELETE the resource (if any); `done` runs once it answered or failed.
    void remove(std::function<void()> done);
    const std::string &url() const { return url_; }

private:
    SoupMessage *request(const char *method, const std::string &url);
    void send(SoupMessage *msg, std::function<void(Reply &&)> done);
    void post(const std::string &url, const std::string &offer_sdp, int hops, std::function<void(const Reply &)> done);
    void send_candidates();

    std::string url_, token_, resource_, etag_;
    Log log_;
    Fail fail_;
    SoupSession *session_;
    GCancellable *cancel_;
    TrickleFragment fragment_;
    std::vector<std::pair<guint, std::string>> queued_;
    bool patching_ = false, trickle_off_ = false;
};

} // namespace webrtcdirect
