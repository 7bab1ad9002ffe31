#include "http_endpoints.hpp"

#include "page.hpp"

#include <cstring>
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

// Refused early from Content-Length, or after reading when the body came
// chunked (no length to judge by).
HttpResponse HttpEndpoints::too_large()
{
    return HttpResponse::error(413, "request body over " + std::to_string(kMaxBody / 1024) + " KiB");
}

void respond(SoupServerMessage *msg, const HttpResponse &r)
{
    SoupMessageHeaders *h = soup_server_message_get_response_headers(msg);
    soup_message_headers_replace(h, "Access-Control-Allow-Origin", "*");
    soup_message_headers_replace(h, "Access-Control-Expose-Headers", "Location, Link");
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

// Refuse an oversized body from its headers, before libsoup reads it.
void HttpEndpoints::early(SoupServer *, SoupServerMessage *msg, const char *, GHashTable *, gpointer)
{
    goffset length = soup_message_headers_get_content_length(soup_server_message_get_request_headers(msg));
    if (length > (goffset)kMaxBody)
        respond(msg, too_large());
}

void HttpEndpoints::handle(SoupServer *, SoupServerMessage *msg, const char *path, GHashTable *query, gpointer self)
{
    if (soup_server_message_get_status(msg) != 0 && soup_server_message_get_status(msg) >= 400)
        return; // refused early
    static_cast<HttpEndpoints *>(self)->route(msg, soup_server_message_get_method(msg), path, query);
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
    if (path == "/status") {
        return respond(msg, {200, "", "application/json", handlers_.status_json(), {{"Cache-Control", "no-store"}}});
    }
    std::string endpoint, id;
    if (path == "/whip" || path == "/whep") {
        endpoint = path.substr(1);
    } else if (path.rfind("/whip/", 0) == 0 || path.rfind("/whep/", 0) == 0) {
        endpoint = path.substr(1, 4);
        id = path.substr(6);
    } else {
        return respond(msg, HttpResponse::error(404, "no such resource: " + path));
    }
    SoupMessageBody *body = soup_server_message_get_request_body(msg);
    const std::string text = body && body->data ? std::string(body->data, body->length) : "";
    if (text.size() > kMaxBody)
        return respond(msg, too_large());
    if (!token_.empty() && method != "OPTIONS") {
        const char *auth =
            soup_message_headers_get_one(soup_server_message_get_request_headers(msg), "Authorization");
        if (!auth || std::string(auth) != "Bearer " + token_)
            return respond(msg, {401, auth ? "wrong bearer token" : "a bearer token is required", "", "",
                                 {{"WWW-Authenticate", "Bearer"}}});
    }
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
