// The client half of WHIP/WHEP (libsoup 3 on the main loop): POST the offer
// (bearer token, 307/308 redirects followed with the body), remember the
// session resource from Location, DELETE it when done.
#pragma once

#include <libsoup/soup.h>

#include <functional>
#include <string>

namespace webrtcdirect {

class SessionResource {
public:
    struct Reply {
        int status = 0;        // 0: no HTTP answer (connection failed, timeout)
        std::string reason;    // status line or transport error
        std::string body;
        std::string location;  // absolute URL of the session resource
    };

    SessionResource(std::string url, std::string token, guint timeout_s = 10);
    ~SessionResource();
    SessionResource(const SessionResource &) = delete;
    SessionResource &operator=(const SessionResource &) = delete;

    void create(const std::string &offer_sdp, std::function<void(const Reply &)> done);
    // DELETE the resource (if any); `done` runs once it answered or failed.
    void remove(std::function<void()> done);
    const std::string &url() const { return url_; }

private:
    SoupMessage *request(const char *method, const std::string &url);
    void post(const std::string &url, const std::string &offer_sdp, int hops, std::function<void(const Reply &)> done);

    std::string url_, token_, resource_;
    SoupSession *session_;
    GCancellable *cancel_;
};

} // namespace webrtcdirect
