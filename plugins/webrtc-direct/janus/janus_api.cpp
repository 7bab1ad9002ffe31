#include "janus/janus_api.hpp"

#include "common/bounded_read.hpp"

#include <cstring>

namespace webrtcdirect {

namespace {

// Janus' answer to one request, or the reason there is none.
using Reply = std::function<void(GBytes *body, const std::string &error)>;

void send(SoupSession *session, SoupMessage *msg, GCancellable *cancel, const Fail &fail, Reply reply)
{
    send_bounded(session, msg, cancel, JanusApi::kMaxAnswer, fail,
                 [msg, reply = std::move(reply)](GBytes *body, const GError *error) {
                     if (error && g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
                         return; // the API object is gone
                     const guint status = soup_message_get_status(msg);
                     std::string why;
                     if (error) {
                         why = std::string("no answer from Janus: ") + error->message;
                     } else if (status != 200) {
                         const char *phrase = soup_message_get_reason_phrase(msg);
                         why = "HTTP " + std::to_string(status) + " " + (phrase ? phrase : "");
                     }
                     reply(why.empty() ? body : nullptr, why);
                 });
    g_object_unref(msg);
}

// A reply to one of our requests, as `done` wants it: the error, or the
// plugin's data (sync plugin requests), or "data" (create, attach), or the
// whole object (ack).
void answer(JsonObject *root, const JanusApi::Done &done)
{
    if (std::string e = janus_error(root); !e.empty())
        return done(nullptr, e);
    JsonObject *out = json_object_member(json_object_member(root, "plugindata"), "data");
    if (!out)
        out = json_object_member(root, "data");
    done(out ? out : root, "");
}

} // namespace

JanusApi::JanusApi(std::string url, std::string token, EventHandler on_event, LostHandler on_lost, Fail fail,
                   guint timeout_s)
    : url_(std::move(url)), token_(std::move(token)), on_event_(std::move(on_event)), on_lost_(std::move(on_lost)),
      fail_(std::move(fail)),
      soup_(soup_session_new_with_options("timeout", timeout_s, "user-agent", "mediagw", nullptr)),
      poll_soup_(soup_session_new_with_options("timeout", 45u, "user-agent", "mediagw", nullptr)),
      cancel_(g_cancellable_new()), timeout_s_(timeout_s)
{
    while (!url_.empty() && url_.back() == '/')
        url_.pop_back();
    websocket_ = url_.rfind("ws://", 0) == 0 || url_.rfind("wss://", 0) == 0;
}

// --- the WebSocket transport: requests and answers matched by transaction,
// events pushed by Janus (no long-poll).

void JanusApi::ws_connect(std::function<void(const std::string &error)> done)
{
    SoupMessage *msg = soup_message_new("GET", url_.c_str());
    if (!msg)
        return done("not a valid URL: " + url_);
    const char *protocols[] = {"janus-protocol", nullptr};
    struct Connecting {
        JanusApi *api;
        std::weak_ptr<int> alive;
        std::function<void(const std::string &)> done;
    };
    // On the long-poll's session: its I/O timeout (45 s) outlasts the 25 s
    // between keepalives; the request one (5 s) would cut a quiet socket.
    soup_session_websocket_connect_async(
        poll_soup_, msg, nullptr, const_cast<char **>(protocols), G_PRIORITY_DEFAULT, cancel_,
        [](GObject *source, GAsyncResult *result, gpointer data) {
            std::unique_ptr<Connecting> c(static_cast<Connecting *>(data));
            GError *error = nullptr;
            SoupWebsocketConnection *ws = soup_session_websocket_connect_finish(SOUP_SESSION(source), result, &error);
            if (!c->alive.lock()) {
                if (ws)
                    g_object_unref(ws);
                if (error)
                    g_error_free(error);
                return;
            }
            std::string why;
            if (!ws) {
                why = std::string("no WebSocket to Janus: ") + (error ? error->message : "unknown error");
                g_clear_error(&error);
            } else {
                JanusApi *api = c->api;
                api->ws_ = ws;
                // The same bound as an HTTP answer (libsoup's default is 128 KiB).
                soup_websocket_connection_set_max_incoming_payload_size(ws, kMaxAnswer);
                g_signal_connect(ws, "message", G_CALLBACK(&JanusApi::on_ws_message), api);
                g_signal_connect_swapped(ws, "closed", G_CALLBACK(+[](JanusApi *api) {
                                             guarded(api->fail_, "Janus WebSocket closed", [api] {
                                                 if (!api->destroying_)
                                                     api->on_lost_("the WebSocket to Janus closed");
                                             });
                                         }),
                                         api);
            }
            guarded(c->api->fail_, "Janus WebSocket connected", [&] { c->done(why); });
        },
        new Connecting{this, alive_, std::move(done)});
    g_object_unref(msg);
}

void JanusApi::ws_send(const std::string &transaction, gchar *text, Done done)
{
    struct Expiry {
        JanusApi *api;
        std::string transaction;
    };
    const guint timer = g_timeout_add_seconds_full(
        G_PRIORITY_DEFAULT, timeout_s_,
        [](gpointer data) {
            auto *e = static_cast<Expiry *>(data);
            guarded(e->api->fail_, "Janus request timer", [e] {
                auto it = e->api->waiting_.find(e->transaction);
                if (it != e->api->waiting_.end()) {
                    Done late = std::move(it->second.done);
                    e->api->waiting_.erase(it);
                    late(nullptr, "no answer from Janus within " + std::to_string(e->api->timeout_s_) + " s");
                }
            });
            return G_SOURCE_REMOVE;
        },
        new Expiry{this, transaction}, [](gpointer data) { delete static_cast<Expiry *>(data); });
    waiting_[transaction] = {std::move(done), timer};
    soup_websocket_connection_send_text(ws_, text);
    g_free(text);
}

// An answer to a request of ours (success, error or ack for a transaction
// that still waits), else an event. Plugin events carry the transaction of
// the request that caused them too, and may overtake its ack.
void JanusApi::on_ws_message(SoupWebsocketConnection *, gint type, GBytes *message, gpointer self)
{
    auto *api = static_cast<JanusApi *>(self);
    guarded(api->fail_, "Janus WebSocket message", [&] { api->ws_message(type, message); });
}

void JanusApi::ws_message(gint type, GBytes *message)
{
    JanusApi *api = this;
    if (type != SOUP_WEBSOCKET_DATA_TEXT)
        return;
    g_autoptr(JsonParser) parser = json_parser_new();
    gsize n = 0;
    const char *data = static_cast<const char *>(g_bytes_get_data(message, &n));
    JsonNode *parsed = parse_json(parser, data, n);
    if (!parsed || !JSON_NODE_HOLDS_OBJECT(parsed))
        return; // not Janus: ignored (an answer it should have been times out)
    JsonObject *root = json_node_get_object(parsed);
    const std::string kind = json_text(root, "janus");
    const bool reply = kind == "success" || kind == "error" || kind == "ack";
    auto it = reply ? api->waiting_.find(json_text(root, "transaction")) : api->waiting_.end();
    if (it != api->waiting_.end()) {
        Done done = std::move(it->second.done);
        g_source_remove(it->second.timer);
        api->waiting_.erase(it);
        return answer(root, done);
    }
    api->dispatch(root);
}

std::function<void()> JanusApi::take_after_create()
{
    auto f = std::move(after_create_);
    after_create_ = nullptr;
    return f ? f : [] {};
}

JanusApi::~JanusApi()
{
    for (guint timer : {keepalive_timer_, retry_timer_})
        if (timer)
            g_source_remove(timer);
    alive_.reset();
    for (auto &[transaction, w] : waiting_)
        g_source_remove(w.timer);
    if (ws_) {
        g_signal_handlers_disconnect_by_data(ws_, this);
        if (soup_websocket_connection_get_state(ws_) == SOUP_WEBSOCKET_STATE_OPEN)
            soup_websocket_connection_close(ws_, SOUP_WEBSOCKET_CLOSE_GOING_AWAY, nullptr);
        g_object_unref(ws_);
    }
    g_cancellable_cancel(cancel_);
    g_object_unref(cancel_);
    g_object_unref(soup_);
    g_object_unref(poll_soup_);
}

// `b` is inside an open object: the transaction (and token, and over a
// WebSocket the ids the HTTP API has in its path) close it.
void JanusApi::request(guint64 session, guint64 handle, JsonBuilder *b, Done done)
{
    const std::string transaction = "mgw" + std::to_string(++transaction_);
    json_builder_set_member_name(b, "transaction");
    json_builder_add_string_value(b, transaction.c_str());
    std::string path;
    if (session) {
        path = "/" + std::to_string(session) + (handle ? "/" + std::to_string(handle) : "");
        if (ws_) {
            json_builder_set_member_name(b, "session_id");
            json_builder_add_int_value(b, (gint64)session);
        }
    }
    if (handle && ws_) {
        json_builder_set_member_name(b, "handle_id");
        json_builder_add_int_value(b, (gint64)handle);
    }
    if (!token_.empty()) {
        json_builder_set_member_name(b, "token");
        json_builder_add_string_value(b, token_.c_str());
    }
    json_builder_end_object(b);
    JsonNode *root = json_builder_get_root(b);
    g_object_unref(b);
    gchar *text = json_to_string(root, FALSE);
    const gsize size = strlen(text);
    json_node_unref(root);
    if (ws_)
        return ws_send(transaction, text, std::move(done));

    SoupMessage *msg = soup_message_new("POST", (url_ + path).c_str());
    if (!msg) {
        g_free(text);
        done(nullptr, "not a valid URL: " + url_ + path);
        return;
    }
    GBytes *bytes = g_bytes_new_take(text, size);
    soup_message_set_request_body_from_bytes(msg, "application/json", bytes);
    g_bytes_unref(bytes);
    auto reply = [done = std::move(done)](GBytes *body, const std::string &error) {
        if (!error.empty())
            return done(nullptr, error);
        g_autoptr(JsonParser) parser = json_parser_new();
        gsize n = 0;
        const char *data = static_cast<const char *>(g_bytes_get_data(body, &n));
        JsonNode *parsed = parse_json(parser, data, n);
        if (!parsed || !JSON_NODE_HOLDS_OBJECT(parsed))
            return done(nullptr, "Janus answered something that is not a JSON object");
        answer(json_node_get_object(parsed), done);
    };
    send(soup_, msg, cancel_, fail_, std::move(reply));
}

void JanusApi::create(std::function<void(const std::string &error)> done)
{
    JsonBuilder *b = json_builder_new();
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "janus");
    json_builder_add_string_value(b, "create");
    creating_ = true;
    if (websocket_ && !ws_)
        return ws_connect([this, b, done = std::move(done)](const std::string &error) mutable {
            if (error.empty() && !destroying_)
                return create_session(b, std::move(done));
            creating_ = false;
            g_object_unref(b);
            if (destroying_)
                return destroy(take_after_create());
            done(error);
        });
    create_session(b, std::move(done));
}

void JanusApi::create_session(JsonBuilder *b, std::function<void(const std::string &error)> done)
{
    request(0, 0, b, [this, done = std::move(done)](JsonObject *data, const std::string &error) {
        creating_ = false;
        session_id_ = error.empty() ? json_id(data, "id") : 0;
        if (destroying_) // destroy() came while creating: this session must not outlive us
            return destroy(take_after_create());
        if (!error.empty())
            return done(error);
        if (!session_id_)
            return done("Janus created no session (no data.id in its answer)");
        keepalive_timer_ = g_timeout_add_seconds(25, &JanusApi::keepalive, this);
        if (!ws_)
            poll(); // over a WebSocket, events come by themselves
        done("");
    });
}

void JanusApi::attach(const char *plugin, std::function<void(guint64, const std::string &)> done)
{
    JsonBuilder *b = json_builder_new();
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "janus");
    json_builder_add_string_value(b, "attach");
    json_builder_set_member_name(b, "plugin");
    json_builder_add_string_value(b, plugin);
    request(session_id_, 0, b, [done = std::move(done)](JsonObject *data, const std::string &e) {
        const guint64 id = e.empty() ? json_id(data, "id") : 0;
        done(id, e.empty() && !id ? "Janus attached no handle (no data.id)" : e);
    });
}

void JanusApi::message(guint64 handle, JsonNode *body, Done done, const std::string &jsep_type,
                       const std::string &jsep_sdp)
{
    JsonBuilder *b = json_builder_new();
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "janus");
    json_builder_add_string_value(b, "message");
    json_builder_set_member_name(b, "body");
    json_builder_add_value(b, body);
    if (!jsep_type.empty()) {
        json_builder_set_member_name(b, "jsep");
        json_builder_begin_object(b);
        json_builder_set_member_name(b, "type");
        json_builder_add_string_value(b, jsep_type.c_str());
        json_builder_set_member_name(b, "sdp");
        json_builder_add_string_value(b, jsep_sdp.c_str());
        json_builder_set_member_name(b, "trickle");
        json_builder_add_boolean_value(b, FALSE); // our SDP carries every candidate
        json_builder_end_object(b);
    }
    request(session_id_, handle, b, std::move(done));
}

void JanusApi::detach(guint64 handle)
{
    if (!session_id_)
        return;
    JsonBuilder *b = json_builder_new();
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "janus");
    json_builder_add_string_value(b, "detach");
    request(session_id_, handle, b, [](JsonObject *, auto &) {});
}

void JanusApi::destroy(std::function<void()> done)
{
    destroying_ = true;
    if (creating_) { // bounded by the request timeout
        after_create_ = std::move(done);
        return;
    }
    if (keepalive_timer_)
        g_source_remove(keepalive_timer_);
    keepalive_timer_ = 0;
    if (!session_id_)
        return done();
    const guint64 id = session_id_;
    session_id_ = 0; // the poll's answer, if any, is ignored from now on
    JsonBuilder *b = json_builder_new();
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "janus");
    json_builder_add_string_value(b, "destroy");
    request(id, 0, b, [this, done = std::move(done)](JsonObject *, auto &) {
        if (ws_)
            soup_websocket_connection_close(ws_, SOUP_WEBSOCKET_CLOSE_NORMAL, nullptr);
        done();
    });
}

gboolean JanusApi::keepalive(gpointer self)
{
    auto *api = static_cast<JanusApi *>(self);
    guarded(api->fail_, "Janus keepalive timer", [api] {
        JsonBuilder *b = json_builder_new();
        json_builder_begin_object(b);
        json_builder_set_member_name(b, "janus");
        json_builder_add_string_value(b, "keepalive");
        // A Janus that does not answer its keepalive (5 s) is gone or hung:
        // waiting for the long-poll to fail takes up to 3 x 45 s.
        api->request(api->session_id_, 0, b, [api](JsonObject *, const std::string &error) {
            if (!error.empty())
                api->on_lost_("Janus did not answer a keepalive: " + error);
        });
    });
    return G_SOURCE_CONTINUE;
}

// Janus holds the GET up to 30 s and answers with up to maxev events (an
// array) or a keepalive; the next poll starts as soon as one returns.
void JanusApi::poll()
{
    if (!session_id_)
        return;
    std::string url = url_ + "/" + std::to_string(session_id_) + "?maxev=10";
    if (!token_.empty()) {
        gchar *escaped = g_uri_escape_string(token_.c_str(), nullptr, FALSE);
        url += std::string("&token=") + escaped;
        g_free(escaped);
    }
    SoupMessage *msg = soup_message_new("GET", url.c_str());
    if (!msg)
        return on_lost_("not a valid URL: " + url_); // (without the token the query carries)
    send(poll_soup_, msg, cancel_, fail_, [this, polled = session_id_](GBytes *body, const std::string &error) {
        if (polled == session_id_)
            on_poll_reply(body, error);
    });
}

void JanusApi::on_poll_reply(GBytes *body, const std::string &error)
{
    g_autoptr(JsonParser) parser = json_parser_new();
    gsize n = 0;
    const char *data = body ? static_cast<const char *>(g_bytes_get_data(body, &n)) : nullptr;
    JsonNode *root = error.empty() ? parse_json(parser, data, n) : nullptr;
    if (!root) {
        // A restarting proxy or a dropped connection: retry a few times.
        if (++poll_failures_ >= 3)
            return on_lost_("lost the Janus event stream: " + (error.empty() ? "unreadable JSON" : error));
        retry_timer_ = g_timeout_add_seconds(1, [](gpointer p) {
            auto *api = static_cast<JanusApi *>(p);
            api->retry_timer_ = 0;
            guarded(api->fail_, "Janus poll retry timer", [api] { api->poll(); });
            return G_SOURCE_REMOVE;
        }, this);
        return;
    }
    poll_failures_ = 0;
    std::weak_ptr<int> alive = alive_; // an event handler may destroy this object
    if (JSON_NODE_HOLDS_ARRAY(root)) {
        JsonArray *events = json_node_get_array(root);
        for (guint i = 0; i < json_array_get_length(events); ++i)
            if (JsonObject *event = json_object_element(events, i)) {
                dispatch(event);
                if (!alive.lock())
                    return;
            }
    } else if (JSON_NODE_HOLDS_OBJECT(root)) {
        JsonObject *o = json_node_get_object(root);
        if (json_text(o, "janus") == "error") // 458: the session expired or was destroyed
            return on_lost_(janus_error(o));
        dispatch(o);
        if (!alive.lock())
            return;
    }
    if (session_id_) // an event handler may have destroyed the session
        poll();
}

void JanusApi::dispatch(JsonObject *o)
{
    const JanusEvent e = janus_event(o);
    if (e.type == "keepalive" || e.type == "ack")
        return;
    on_event_(e);
}

} // namespace webrtcdirect
