#include "room_directory/http_lookup.hpp"

#include "json_nesting.hpp"

#include <json-glib/json-glib.h>

#include <algorithm>
#include <stdexcept>

namespace roomdir {
namespace {

constexpr int kMaxJsonDepth = 32;
constexpr int kMaxRedirects = 3;
constexpr gsize kReadBlock = 16 * 1024;

struct Origin {
    std::string scheme, host;
    int port = -1;
};

bool origin_of(const std::string &url, Origin &o)
{
    GUri *uri = g_uri_parse(url.c_str(), G_URI_FLAGS_NONE, nullptr);
    if (!uri)
        return false;
    gchar *scheme = g_ascii_strdown(g_uri_get_scheme(uri), -1);
    const char *host = g_uri_get_host(uri);
    gchar *lower = host ? g_ascii_strdown(host, -1) : nullptr;
    o.scheme = scheme;
    o.host = lower ? lower : "";
    o.port = g_uri_get_port(uri);
    if (o.port < 0)
        o.port = o.scheme == "https" ? 443 : o.scheme == "http" ? 80 : -1;
    g_free(scheme);
    g_free(lower);
    g_uri_unref(uri);
    return (o.scheme == "http" || o.scheme == "https") && !o.host.empty() && o.port > 0;
}

bool same_origin(const std::string &a, const std::string &b)
{
    Origin x, y;
    return origin_of(a, x) && origin_of(b, y) && x.scheme == y.scheme && x.host == y.host && x.port == y.port;
}

std::string with_key(const std::string &url, const std::string &key)
{
    gchar *escaped = g_uri_escape_string(key.c_str(), nullptr, FALSE);
    const size_t hash = url.find('#');
    std::string base = hash == std::string::npos ? url : url.substr(0, hash);
    std::string out = base + (base.find('?') == std::string::npos ? "?" : "&") + "key=" + escaped;
    g_free(escaped);
    return out;
}

} // namespace

Result room_from_json(const char *data, size_t size)
{
    if (!data || size == 0)
        return Result::error("the answer is empty");
    if (mgwsupport::json_nesting(data, size, kMaxJsonDepth) > kMaxJsonDepth)
        return Result::error("the answer nests deeper than 32 levels");
    JsonParser *parser = json_parser_new();
    GError *error = nullptr;
    if (!json_parser_load_from_data(parser, data, static_cast<gssize>(size), &error)) {
        Result r = Result::error(std::string("the answer is not JSON: ") + (error ? error->message : "?"));
        g_clear_error(&error);
        g_object_unref(parser);
        return r;
    }
    JsonNode *root = json_parser_get_root(parser);
    if (!root || !JSON_NODE_HOLDS_OBJECT(root)) {
        g_object_unref(parser);
        return Result::error("the answer is not a JSON object");
    }
    JsonObject *o = json_node_get_object(root);
    Room room;
    std::string bad;
    for (const char *field : kRoomFields) {
        JsonNode *n = json_object_has_member(o, field) ? json_object_get_member(o, field) : nullptr;
        if (!n || JSON_NODE_HOLDS_NULL(n))
            continue;
        const bool numeric_ok = std::string_view(field) == "room" || std::string_view(field) == "pin";
        std::string text;
        if (JSON_NODE_HOLDS_VALUE(n) && json_node_get_value_type(n) == G_TYPE_STRING) {
            text = json_node_get_string(n);
        } else if (numeric_ok && JSON_NODE_HOLDS_VALUE(n) && json_node_get_value_type(n) == G_TYPE_INT64 &&
                   json_node_get_int(n) >= 0) {
            text = std::to_string(json_node_get_int(n));
        } else {
            bad = std::string("field '") + field + "': expected a string" +
                  (numeric_ok ? " or a non-negative integer" : "");
            break;
        }
        if (const std::string why = check_value(text); !why.empty()) {
            bad = std::string("field '") + field + "': " + why;
            break;
        }
        *room_field(room, field) = text;
    }
    g_object_unref(parser);
    if (bad.empty() && room.room.empty())
        bad = "field 'room': missing or empty";
    if (!bad.empty())
        return Result::error("the answer's " + bad);
    return Result::found(std::move(room), "http");
}

// One lookup: owned by the pending libsoup calls (shared_ptr holders) and
// by the HttpLookup until it finishes or is cancelled.
struct HttpLookup::Exchange {
    SoupSession *session;
    HttpSettings settings;
    Done done;
    GCancellable *cancel = g_cancellable_new();
    SoupMessage *msg = nullptr;
    GInputStream *stream = nullptr;
    GByteArray *body = g_byte_array_new();
    std::string url;
    int redirects = 0;
    guint timer = 0;
    bool finished = false;

    Exchange(SoupSession *s, HttpSettings st, Done d) : session(s), settings(std::move(st)), done(std::move(d)) {}
    Exchange(const Exchange &) = delete;
    Exchange &operator=(const Exchange &) = delete;
    ~Exchange()
    {
        if (stream) {
            g_input_stream_close(stream, nullptr, nullptr); // drops the connection, nothing more is read
            g_object_unref(stream);
        }
        if (msg)
            g_object_unref(msg);
        g_byte_array_unref(body);
        g_object_unref(cancel);
        g_object_unref(session);
    }

    // Ends the exchange; `r` goes to `done` unless it was cancelled.
    void end(const Result *r)
    {
        if (finished)
            return;
        finished = true;
        if (timer)
            g_source_remove(timer);
        timer = 0;
        g_cancellable_cancel(cancel);
        if (r && done) {
            Done d = std::move(done);
            try {
                d(*r);
            } catch (...) {
                g_critical("room directory: the HTTP lookup's callback threw");
            }
        }
        done = nullptr;
    }

    void fail(const std::string &why)
    {
        Result r = Result::error(loggable(url) + ": " + why);
        end(&r);
    }
};

using Holder = std::shared_ptr<HttpLookup::Exchange>;

namespace {

void read_more(Holder ex);

void got_block(GObject *source, GAsyncResult *result, gpointer data)
{
    Holder ex = std::move(*static_cast<Holder *>(data));
    delete static_cast<Holder *>(data);
    try {
        GError *error = nullptr;
        GBytes *block = g_input_stream_read_bytes_finish(G_INPUT_STREAM(source), result, &error);
        if (ex->finished) {
            g_clear_error(&error);
            if (block)
                g_bytes_unref(block);
            return;
        }
        if (!block) {
            ex->fail(std::string("reading the answer: ") + (error ? error->message : "?"));
            g_clear_error(&error);
            return;
        }
        const gsize size = g_bytes_get_size(block);
        g_byte_array_append(ex->body, static_cast<const guint8 *>(g_bytes_get_data(block, nullptr)),
                            static_cast<guint>(size));
        g_bytes_unref(block);
        if (ex->body->len > ex->settings.max_bytes)
            return ex->fail("the answer is over " + std::to_string(ex->settings.max_bytes) + " bytes: not read");
        if (size > 0)
            return read_more(ex);
        Result r = room_from_json(reinterpret_cast<const char *>(ex->body->data), ex->body->len);
        if (r.kind == Result::Kind::Error)
            r.reason = HttpLookup::loggable(ex->url) + ": " + r.reason;
        ex->end(&r);
    } catch (const std::exception &e) {
        ex->fail(e.what());
    } catch (...) {
        ex->fail("unexpected exception");
    }
}

void read_more(Holder ex)
{
    const gsize want = std::min(kReadBlock, ex->settings.max_bytes + 1 - ex->body->len);
    g_input_stream_read_bytes_async(ex->stream, want, G_PRIORITY_DEFAULT, ex->cancel, got_block, new Holder(ex));
}

void send_to(Holder ex, const std::string &url);

void sent(GObject *source, GAsyncResult *result, gpointer data)
{
    Holder ex = std::move(*static_cast<Holder *>(data));
    delete static_cast<Holder *>(data);
    try {
        GError *error = nullptr;
        GInputStream *stream = soup_session_send_finish(SOUP_SESSION(source), result, &error);
        if (ex->finished) {
            g_clear_error(&error);
            if (stream) {
                g_input_stream_close(stream, nullptr, nullptr);
                g_object_unref(stream);
            }
            return;
        }
        if (!stream) {
            ex->fail(error ? error->message : "no answer");
            g_clear_error(&error);
            return;
        }
        ex->stream = stream;
        const guint status = soup_message_get_status(ex->msg);
        SoupMessageHeaders *headers = soup_message_get_response_headers(ex->msg);
        if (SOUP_STATUS_IS_REDIRECTION(status)) {
            const char *location = soup_message_headers_get_one(headers, "Location");
            gchar *next = location ? g_uri_resolve_relative(ex->url.c_str(), location, G_URI_FLAGS_NONE, nullptr)
                                   : nullptr;
            std::string target = next ? next : "";
            g_free(next);
            if (target.empty())
                return ex->fail("HTTP " + std::to_string(status) + " without a usable Location");
            if (!same_origin(ex->url, target))
                return ex->fail("HTTP " + std::to_string(status) + " to another origin (" + HttpLookup::loggable(target) +
                                "): not followed");
            if (++ex->redirects > kMaxRedirects)
                return ex->fail("more than 3 redirects");
            g_input_stream_close(ex->stream, nullptr, nullptr);
            g_clear_object(&ex->stream);
            return send_to(ex, target);
        }
        if (status == SOUP_STATUS_NOT_FOUND) {
            Result r = Result::not_found("no such room (HTTP 404 from " + HttpLookup::loggable(ex->url) + ")");
            return ex->end(&r);
        }
        if (status != SOUP_STATUS_OK)
            return ex->fail("HTTP " + std::to_string(status) + " " + (soup_message_get_reason_phrase(ex->msg)
                                                                         ? soup_message_get_reason_phrase(ex->msg)
                                                                         : ""));
        if (soup_message_headers_get_encoding(headers) == SOUP_ENCODING_CONTENT_LENGTH &&
            soup_message_headers_get_content_length(headers) > static_cast<goffset>(ex->settings.max_bytes))
            return ex->fail("the answer's Content-Length " +
                            std::to_string(soup_message_headers_get_content_length(headers)) + " is over " +
                            std::to_string(ex->settings.max_bytes) + " bytes: not read");
        read_more(ex);
    } catch (const std::exception &e) {
        ex->fail(e.what());
    } catch (...) {
        ex->fail("unexpected exception");
    }
}

void send_to(Holder ex, const std::string &url)
{
    ex->url = url;
    if (ex->msg)
        g_clear_object(&ex->msg);
    ex->msg = soup_message_new("GET", url.c_str());
    if (!ex->msg)
        return ex->fail("not a usable URL");
    soup_message_add_flags(ex->msg, SOUP_MESSAGE_NO_REDIRECT);
    SoupMessageHeaders *h = soup_message_get_request_headers(ex->msg);
    soup_message_headers_replace(h, "Accept", "application/json");
    if (!ex->settings.token.empty())
        soup_message_headers_replace(h, "Authorization", ("Bearer " + ex->settings.token).c_str());
    soup_session_send_async(ex->session, ex->msg, G_PRIORITY_DEFAULT, ex->cancel, sent, new Holder(ex));
}

} // namespace

HttpLookup::HttpLookup(HttpSettings settings) : settings_(std::move(settings))
{
    Origin o;
    if (!origin_of(settings_.url, o))
        throw std::invalid_argument("lookup_url: \"" + loggable(settings_.url) + "\" is not an absolute http(s) URL");
    if (settings_.timeout_ms == 0)
        throw std::invalid_argument("lookup_timeout_ms must be more than 0");
    session_ = soup_session_new_with_options("timeout", (settings_.timeout_ms + 999) / 1000 + 1, "user-agent",
                                             "mediagw", nullptr);
}

HttpLookup::~HttpLookup()
{
    cancel();
    g_object_unref(session_);
}

void HttpLookup::cancel()
{
    if (current_)
        current_->end(nullptr);
    current_.reset();
}

void HttpLookup::lookup(const std::string &key, Done done)
{
    cancel();
    auto ex = std::shared_ptr<Exchange>(new Exchange(SOUP_SESSION(g_object_ref(session_)), settings_, std::move(done)));
    current_ = ex;
    // The whole exchange, redirects and body included.
    ex->timer = g_timeout_add(
        settings_.timeout_ms,
        [](gpointer p) {
            auto self = static_cast<Exchange *>(p);
            self->timer = 0;
            self->fail("no answer within " + std::to_string(self->settings.timeout_ms) + " ms");
            return G_SOURCE_REMOVE;
        },
        ex.get());
    // Never inside lookup(): the caller may still be setting up.
    const std::string url = with_key(settings_.url, key);
    g_idle_add_full(
        G_PRIORITY_DEFAULT,
        [](gpointer p) {
            auto holder = static_cast<std::pair<Holder, std::string> *>(p);
            if (!holder->first->finished)
                send_to(holder->first, holder->second);
            return G_SOURCE_REMOVE;
        },
        new std::pair<Holder, std::string>(ex, url),
        [](gpointer p) { delete static_cast<std::pair<Holder, std::string> *>(p); });
}

std::string HttpLookup::loggable(const std::string &url)
{
    GUri *uri = g_uri_parse(url.c_str(), G_URI_FLAGS_NONE, nullptr);
    if (!uri)
        return "(a URL that does not parse)";
    gchar *text = g_uri_to_string_partial(uri, static_cast<GUriHideFlags>(G_URI_HIDE_USERINFO | G_URI_HIDE_QUERY |
                                                                           G_URI_HIDE_FRAGMENT));
    std::string out = text;
    g_free(text);
    g_uri_unref(uri);
    return out;
}

} // namespace roomdir
