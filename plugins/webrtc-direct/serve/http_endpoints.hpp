// The served room's HTTP side (libsoup 3 on the main loop): the page, a
// status document, and WHIP (RFC 9725) / WHEP endpoints whose sessions are
// resources: POST creates (201 + Location + SDP answer), PATCH trickles
// candidates, DELETE ends. Bad requests get a 4xx whose reason says what.
#pragma once

#include "common/guard.hpp"

#include <libsoup/soup.h>

#include <functional>
#include <string>
#include <utility>
#include <vector>

namespace webrtcdirect {

struct HttpResponse {
    int status = 200;
    std::string reason;        // also the body when `body` is empty and status >= 400
    std::string content_type;
    std::string body;
    std::vector<std::pair<std::string, std::string>> headers;
    static HttpResponse error(int status, std::string why) { return {status, std::move(why), "", "", {}}; }
};

class HttpEndpoints {
public:
    using Reply = std::function<void(HttpResponse)>;
    struct Handlers {
        // endpoint: "whip" or "whep"; `participant`: the client's ?participant=
        // (lets one browser's two sessions count as one person), may be empty.
        std::function<void(const std::string &endpoint, const std::string &offer, const std::string &participant,
                           Reply)>
            create;
        std::function<HttpResponse(const std::string &endpoint, const std::string &id, const std::string &sdpfrag)>
            patch;
        std::function<HttpResponse(const std::string &endpoint, const std::string &id)> remove;
        std::function<std::string()> status_json;
        Fail fail; // an exception in a libsoup callback: the node fails
    };

    static constexpr size_t kMaxBody = 64 * 1024; // an SDP offer is a few kB
    static constexpr guint kRequestReadSeconds = 10; // from connection (or last response) to the whole request
    static HttpResponse too_large();

    // `token`: when not empty, WHIP/WHEP requests and /status need
    // "Authorization: Bearer <token>" (401 otherwise).
    HttpEndpoints(Handlers handlers, std::string token);
    ~HttpEndpoints();
    HttpEndpoints(const HttpEndpoints &) = delete;
    HttpEndpoints &operator=(const HttpEndpoints &) = delete;

    // "host:port" (port 0: pick one). False with `error` when it cannot bind.
    bool listen(const std::string &address, std::string &error);
    std::string url() const { return url_; }

private:
    static void handle(SoupServer *, SoupServerMessage *msg, const char *path, GHashTable *query, gpointer self);
    static void request_started(SoupServer *server, SoupServerMessage *msg, gpointer self);
    static void early(SoupServer *, SoupServerMessage *msg, const char *path, GHashTable *, gpointer self);
    bool authorized(SoupServerMessage *msg) const;
    void route(SoupServerMessage *msg, const std::string &method, const std::string &path, GHashTable *query);

    Handlers handlers_;
    std::string token_;
    SoupServer *server_ = nullptr;
    std::string url_;
};

// Writes `r` into `msg` (CORS headers included: WHIP/WHEP clients run in pages
// served from elsewhere).
void respond(SoupServerMessage *msg, const HttpResponse &r);

} // namespace webrtcdirect
