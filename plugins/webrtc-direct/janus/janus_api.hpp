// Janus Gateway's API, client side (libsoup 3 on the main loop, JSON with
// json-glib): one Janus session, its plugin handles, requests, and their
// asynchronous events - over HTTP (a long-poll brings the events) or over a
// WebSocket (`url` ws:// or wss://, protocol janus-protocol). Nothing here
// knows about the videoroom; janus_room does.
#pragma once

#include "common/guard.hpp"
#include "janus/janus_json.hpp"

#include <json-glib/json-glib.h>
#include <libsoup/soup.h>

#include <functional>
#include <map>
#include <memory>
#include <string>

namespace webrtcdirect {

class JanusApi {
public:
    // `error`: empty on success. Failures read "HTTP 404 Not Found",
    // "Janus error 458: No such session ...", "no answer from Janus: ...".
    using Done = std::function<void(JsonObject *reply, const std::string &error)>;
    using EventHandler = std::function<void(const JanusEvent &)>;
    using LostHandler = std::function<void(const std::string &reason)>;

    // `url`: the API root, e.g. http://janus.example.org:8088/janus or
    // wss://janus.example.org:8989; `token`:
    // Janus' API token (token_auth), sent in every request when set.
    // `fail`: the node's failure, for an exception in a libsoup/GLib callback.
    JanusApi(std::string url, std::string token, EventHandler on_event, LostHandler on_lost, Fail fail,
             guint timeout_s = 10);

    // An answer (HTTP body, WebSocket message) over this is not read: the
    // request fails, naming the URL.
    static constexpr gsize kMaxAnswer = 1024 * 1024;
    ~JanusApi();
    JanusApi(const JanusApi &) = delete;
    JanusApi &operator=(const JanusApi &) = delete;

    // Creates the Janus session and starts polling its events.
    void create(std::function<void(const std::string &error)> done);
    void attach(const char *plugin, std::function<void(guint64 handle, const std::string &error)> done);
    // A plugin message: `body` is taken; a JSEP offer/answer rides along when
    // `jsep_type` is set. `done` gets the synchronous reply: "ack" (the
    // plugin answers by event) or "success" with plugindata.data.
    void message(guint64 handle, JsonNode *body, Done done, const std::string &jsep_type = "",
                 const std::string &jsep_sdp = "");
    void detach(guint64 handle);
    // Destroys the Janus session (every handle with it); `done` runs once
    // Janus answered or the request failed (a session still being created
    // is waited for, then destroyed). Polling stops at once.
    void destroy(std::function<void()> done);


private:
    void request(guint64 session, guint64 handle, JsonBuilder *b, Done done);
    void create_session(JsonBuilder *b, std::function<void(const std::string &error)> done);
    std::function<void()> take_after_create();
    void ws_connect(std::function<void(const std::string &error)> done);
    void ws_send(const std::string &transaction, gchar *text, Done done);
    static void on_ws_message(SoupWebsocketConnection *, gint type, GBytes *message, gpointer self);
    void ws_message(gint type, GBytes *message);
    void poll();
    void on_poll_reply(GBytes *body, const std::string &error);
    void dispatch(JsonObject *event);
    static gboolean keepalive(gpointer self);

    std::string url_, token_;
    EventHandler on_event_;
    LostHandler on_lost_;
    Fail fail_;
    SoupSession *soup_, *poll_soup_;   // requests; the long-poll (Janus holds it up to 30 s) or the WebSocket
    GCancellable *cancel_;
    guint timeout_s_;
    bool websocket_ = false;                 // ws:// or wss://
    SoupWebsocketConnection *ws_ = nullptr;
    struct Waiting {
        Done done;
        guint timer = 0;
    };
    std::map<std::string, Waiting> waiting_; // WebSocket requests by transaction
    guint64 session_id_ = 0;
    guint keepalive_timer_ = 0, retry_timer_ = 0;
    int poll_failures_ = 0;
    bool creating_ = false, destroying_ = false;
    std::function<void()> after_create_; // destroy() waiting for the session being created
    unsigned transaction_ = 0;
    std::shared_ptr<int> alive_ = std::make_shared<int>(0);
};

} // namespace webrtcdirect
