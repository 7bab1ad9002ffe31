#include "serve/http_endpoints.hpp"

#include "read_deadline.hpp"

#include "common/guard.hpp"
#include "serve/page.hpp"

#include <cstring>
#include <sys/socket.h>
#include <memory>

namespace webrtcdirect {
namespace {

std::string content_type_of(SoupServerMessage *msg)
{
    const char *t = soup_message_headers_get_content_type(soup_server_message_get_request_headers(msg), nullptr);
    return t ? t : "";
}

bool split_host_port(const std::string &address, std::string &host, guint16 &port)
{
    auto colon = address.rfind(':');
    if (colon == std::string::npos)
        return false;
    host = address.substr(0, colon);
    if (host.size() > 2 && host.front() == '[' && host.back() == ']')
        host = host.substr(1, host.size() - 2);
    char *end = nullptr;
    long p = strtol(address.c_str() + colon + 1, &end, 10);
    if (!end || *end || p < 0 || p > 65535 || colon + 1 == address.size())
        return false;
    port = (guint16)p;
    return !host.empty();
}

} // namespace

HttpResponse HttpEndpoints::too_large()
{
    return HttpResponse::error(413, "request body over " + std::to_string(kMaxBody / 1024) + " KiB");
}

void respond(SoupServerMessage *msg, const HttpResponse &r)
{
    SoupMessageHeaders *h = soup_server_message_get_response_headers(msg);
    soup_message_headers_replace(h, "Access-Control-Allow-Origin", "*");
    soup_message_headers_replace(h, "Access-Control-Expose-Headers", "Location, Link");
    // One request per connection: libsoup 3.2 (Debian 12) never closes an
    // idle keep-alive connection that the client closed (CLOSE-WAIT, one
    // descriptor lost each time; fixed in libsoup 3.3.0). Signalling
    // requests are few: the extra handshakes cost nothing.
    soup_message_headers_replace(h, "Connection", "close");
    for (const auto &[k, v] : r.headers)
        soup_message_headers_replace(h, k.c_str(), v.c_str());
    soup_server_message_set_status(msg, r.status, r.status >= 400 && !r.reason.empty() ? r.reason.c_str() : nullptr);
    std::string body = r.body;
    std::string type = r.content_type;
    if (body.empty() && r.status >= 400) {
        body = r.reason + "\n";
        type = "text/plain; charset=utf-8";
    }
    if (!body.empty())
        soup_server_message_set_response(msg, type.c_str(), SOUP_MEMORY_COPY, body.data(), body.size());
}

HttpEndpoints::HttpEndpoints(Handlers handlers, std::string token)
    : handlers_(std::move(handlers)), token_(std::move(token))
{
    server_ = soup_server_new("server-header", "mediagw", nullptr);
    g_signal_connect(server_, "request-started", G_CALLBACK(&HttpEndpoints::request_started), this);
    // One request per connection, whoever answered it: after a response
    // libsoup writes itself (400 for a request it cannot parse) libsoup 3.2
    // keeps the connection, and never frees it once the client has closed
    // (CLOSE-WAIT, then a closed socket: a descriptor each, for ever). A
    // connection libsoup has not closed a second after its response is
    // closed here (the ones we answer, with Connection: close, are gone by then).
    auto end_connection = +[](SoupServer *, SoupServerMessage *msg, gpointer) {
        GSocket *socket = soup_server_message_get_socket(msg);
        if (!socket)
            return;
        g_timeout_add_seconds_full(
            G_PRIORITY_DEFAULT, 1,
            [](gpointer s) {
                auto *sock = static_cast<GSocket *>(s);
                if (!g_socket_is_closed(sock)) {
                    g_socket_shutdown(sock, TRUE, TRUE, nullptr);
                    g_socket_close(sock, nullptr);
                }
                return G_SOURCE_REMOVE;
            },
            g_object_ref(socket), g_object_unref);
    };
    g_signal_connect(server_, "request-finished", G_CALLBACK(end_connection), nullptr);
    g_signal_connect(server_, "request-aborted", G_CALLBACK(end_connection), nullptr);
    soup_server_add_early_handler(server_, nullptr, &HttpEndpoints::early, this, nullptr);
    soup_server_add_handler(server_, nullptr, &HttpEndpoints::handle, this, nullptr);
}

HttpEndpoints::~HttpEndpoints()
{
    soup_server_disconnect(server_);
    g_object_unref(server_);
}

bool HttpEndpoints::listen(const std::string &address, std::string &error)
{
    std::string host;
    guint16 port = 0;
    if (!split_host_port(address, host, port)) {
        error = "listen: \"" + address + "\" is not HOST:PORT";
        return false;
    }
    GSocketAddress *sa = g_inet_socket_address_new_from_string(host.c_str(), port);
    if (!sa) {
        error = "listen: \"" + host + "\" is not an IP address";
        return false;
    }
    GError *err = nullptr;
    gboolean ok = soup_server_listen(server_, sa, (SoupServerListenOptions)0, &err);
    g_object_unref(sa);
    if (!ok) {
        error = "cannot serve HTTP on " + address + ": " + err->message;
        g_error_free(err);
        return false;
    }
    GSList *uris = soup_server_get_uris(server_);
    if (uris) {
        gchar *u = g_uri_to_string(static_cast<GUri *>(uris->data));
        url_ = u;
        g_free(u);
    }
    g_slist_free_full(uris, (GDestroyNotify)g_uri_unref);
    return true;
}

namespace {

// A body past kMaxBody is refused with 413 and no longer kept: what the
// client still sends is read and dropped (so that it gets to read the 413),
// up to kMaxDiscard; past that the connection is cut.
constexpr goffset kMaxDiscard = 1024 * 1024;

struct BodyCount {
    goffset bytes = 0;
    bool refused = false;
};

// Past kMaxDiscard: reads now end (libsoup fails the message on the EOF and
// closes it), and the close resets the connection: an orderly close would
// leave the client blocked on a full send window (seen on loopback).
void cut_connection(SoupServerMessage *msg)
{
    GSocket *socket = soup_server_message_get_socket(msg);
    if (!socket)
        return;
    const struct linger reset = {1, 0};
    setsockopt(g_socket_get_fd(socket), SOL_SOCKET, SO_LINGER, &reset, sizeof reset);
    g_socket_shutdown(socket, TRUE, FALSE, nullptr);
}

void refuse_body(SoupServerMessage *msg, BodyCount &count)
{
    if (count.refused)
        return;
    count.refused = true;
    SoupMessageBody *body = soup_server_message_get_request_body(msg);
    soup_message_body_set_accumulate(body, FALSE);
    soup_message_body_truncate(body);
    respond(msg, HttpEndpoints::too_large());
}

} // namespace

// A connection's request (libsoup starts one as the connection opens, and
// again after each response) must be read whole within kRequestReadSeconds:
// a client that sends nothing, or a byte now and then, would otherwise hold
// its connection and file descriptor for ever (libsoup has no such timeout).
void HttpEndpoints::request_started(SoupServer *, SoupServerMessage *msg, gpointer self)
{
    guarded(static_cast<HttpEndpoints *>(self)->handlers_.fail, "HTTP request start",
            [&] { mgwsupport::arm_read_deadline(msg, kRequestReadSeconds, cut_connection); });
}

// Every request: refused from its headers when Content-Length is over the
// bound; any body (chunked has no length to judge by) counted as it comes.
void HttpEndpoints::early(SoupServer *, SoupServerMessage *msg, const char *, GHashTable *, gpointer self)
{
    guarded(static_cast<HttpEndpoints *>(self)->handlers_.fail, "HTTP request headers", [&] {
        auto *count = new BodyCount;
        g_signal_connect_data(msg, "got-chunk", G_CALLBACK(+[](SoupServerMessage *m, GBytes *chunk, gpointer data) {
                                  auto *c = static_cast<BodyCount *>(data);
                                  c->bytes += (goffset)g_bytes_get_size(chunk);
                                  if (c->bytes > (goffset)kMaxBody)
                                      refuse_body(m, *c);
                                  if (c->bytes > kMaxDiscard)
                                      cut_connection(m);
                              }),
                              count, [](gpointer data, GClosure *) { delete static_cast<BodyCount *>(data); },
                              (GConnectFlags)0);
        SoupMessageHeaders *headers = soup_server_message_get_request_headers(msg);
        if (soup_message_headers_get_encoding(headers) == SOUP_ENCODING_CONTENT_LENGTH &&
            soup_message_headers_get_content_length(headers) > (goffset)kMaxBody)
            refuse_body(msg, *count);
    });
}

void HttpEndpoints::handle(SoupServer *, SoupServerMessage *msg, const char *path, GHashTable *query, gpointer self)
{
    auto *endpoints = static_cast<HttpEndpoints *>(self);
    guarded(endpoints->handlers_.fail, "HTTP request", [&] {
        if (soup_server_message_get_status(msg) >= 400)
            return; // refused early
        endpoints->route(msg, soup_server_message_get_method(msg), path, query);
    });
}

// Constant time: the comparison does not tell how much of a guess was right.
bool HttpEndpoints::authorized(SoupServerMessage *msg) const
{
    const char *auth = soup_message_headers_get_one(soup_server_message_get_request_headers(msg), "Authorization");
    const std::string expected = "Bearer " + token_;
    if (!auth || strlen(auth) != expected.size())
        return false;
    unsigned char diff = 0;
    for (size_t i = 0; i < expected.size(); ++i)
        diff |= (unsigned char)(auth[i] ^ expected[i]);
    return diff == 0;
}

void HttpEndpoints::route(SoupServerMessage *msg, const std::string &method, const std::string &path,
                          GHashTable *query)
{
    if (path == "/" || path == "/index.html") {
        if (method != "GET" && method != "HEAD")
            return respond(msg, {405, "use GET", "", "", {{"Allow", "GET"}}});
        return respond(msg, {200, "", "text/html; charset=utf-8", page_html(), {{"Cache-Control", "no-store"}}});
    }
    if (path == "/favicon.ico")
        return respond(msg, {204, "", "", "", {}});
    std::string endpoint, id;
    // /whip, /whep (WHIP and WHEP) and /session (the page: one sendrecv
    // connection), each with /<id> resources.
    for (const char *e : {"whip", "whep", "session"}) {
        const std::string base = std::string("/") + e;
        if (path == base || path.rfind(base + "/", 0) == 0) {
            endpoint = e;
            id = path.size() > base.size() ? path.substr(base.size() + 1) : "";
        }
    }
    if (endpoint.empty() && path != "/status") {
        return respond(msg, HttpResponse::error(404, "no such resource: " + path));
    }
    // The page is public (it carries no secret); everything else needs the
    // token when there is one: /status names the caller. CORS preflights
    // carry no credentials.
    if (!token_.empty() && method != "OPTIONS" && !authorized(msg)) {
        const bool sent = soup_message_headers_get_one(soup_server_message_get_request_headers(msg), "Authorization");
        return respond(msg, {401, sent ? "wrong bearer token" : "a bearer token is required", "", "",
                             {{"WWW-Authenticate", "Bearer"}}});
    }
    if (path == "/status") {
        if (method != "GET" && method != "HEAD" && method != "OPTIONS")
            return respond(msg, {405, "use GET", "", "", {{"Allow", "GET"}}});
        if (method == "OPTIONS")
            return respond(msg, {204, "", "", "", {{"Access-Control-Allow-Methods", "GET, OPTIONS"},
                                                  {"Access-Control-Allow-Headers", "Authorization"}}});
        return respond(msg, {200, "", "application/json", handlers_.status_json(), {{"Cache-Control", "no-store"}}});
    }
    SoupMessageBody *body = soup_server_message_get_request_body(msg);
    const std::string text = body && body->data ? std::string(body->data, body->length) : "";
    if (method == "OPTIONS")
        return respond(msg, {204, "", "", "", {{"Accept-Post", "application/sdp"},
                                              {"Access-Control-Allow-Methods", "POST, PATCH, DELETE, OPTIONS"},
                                              {"Access-Control-Allow-Headers", "Content-Type, Authorization, If-Match"}}});
    if (id.empty()) {
        if (method != "POST")
            return respond(msg, {405, "use POST with an SDP offer", "", "", {{"Allow", "POST, OPTIONS"}}});
        if (content_type_of(msg) != "application/sdp")
            return respond(msg, HttpResponse::error(415, "Content-Type must be application/sdp, not \"" +
                                                             content_type_of(msg) + "\""));
        if (text.empty())
            return respond(msg, HttpResponse::error(400, "empty body: expected an SDP offer"));
        const char *participant = query ? static_cast<const char *>(g_hash_table_lookup(query, "participant")) : nullptr;
        // Answered when ICE gathering completes: keep the message until then,
        // unless the client goes away first.
        soup_server_message_pause(msg);
        auto alive = std::make_shared<bool>(true);
        g_object_ref(msg);
        g_signal_connect_data(msg, "finished", G_CALLBACK(+[](SoupServerMessage *, gpointer flag) {
                                  **static_cast<std::shared_ptr<bool> *>(flag) = false;
                              }),
                              new std::shared_ptr<bool>(alive),
                              [](gpointer flag, GClosure *) { delete static_cast<std::shared_ptr<bool> *>(flag); },
                              (GConnectFlags)0);
        handlers_.create(endpoint, text, participant ? participant : "", [msg, alive](HttpResponse r) {
            if (*alive) {
                respond(msg, r);
                soup_server_message_unpause(msg);
            }
            g_object_unref(msg);
        });
        return;
    }
    if (method == "PATCH") {
        if (content_type_of(msg) != "application/trickle-ice-sdpfrag")
            return respond(msg, HttpResponse::error(415, "Content-Type must be application/trickle-ice-sdpfrag, not \"" +
                                                             content_type_of(msg) + "\""));
        return respond(msg, handlers_.patch(endpoint, id, text));
    }
    if (method == "DELETE")
        return respond(msg, handlers_.remove(endpoint, id));
    respond(msg, {405, "a session resource takes PATCH or DELETE", "", "", {{"Allow", "PATCH, DELETE, OPTIONS"}}});
}

} // namespace webrtcdirect
