#include "http_api.hpp"

#include "log.hpp"
#include "read_deadline.hpp"
#include "metrics.hpp"
#include "supervisor.hpp"

#include <json-glib/json-glib.h>

#include <cstring>
#include <functional>

namespace mediagw::serve {

namespace {

void respond(SoupServerMessage *msg, int status, const std::string &type, const std::string &body,
             const std::vector<std::pair<std::string, std::string>> &headers = {})
{
    soup_server_message_set_status(msg, status, nullptr);
    SoupMessageHeaders *h = soup_server_message_get_response_headers(msg);
    soup_message_headers_replace(h, "Cache-Control", "no-store");
    for (auto &[k, v] : headers)
        soup_message_headers_replace(h, k.c_str(), v.c_str());
    soup_server_message_set_response(msg, type.c_str(), SOUP_MEMORY_COPY, body.data(), body.size());
}

std::string json_text(JsonBuilder *b)
{
    JsonNode *root = json_builder_get_root(b);
    gchar *t = json_to_string(root, FALSE);
    std::string out = t;
    g_free(t);
    json_node_unref(root);
    return out;
}

// {"error": TEXT, "field": FIELD}
void error(SoupServerMessage *msg, int status, const std::string &text, const std::string &field = "",
           const std::vector<std::pair<std::string, std::string>> &headers = {})
{
    JsonBuilder *b = json_builder_new();
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "error");
    json_builder_add_string_value(b, text.c_str());
    if (!field.empty()) {
        json_builder_set_member_name(b, "field");
        json_builder_add_string_value(b, field.c_str());
    }
    json_builder_end_object(b);
    respond(msg, status, "application/json", json_text(b) + "\n", headers);
    g_object_unref(b);
}

void member(JsonBuilder *b, const char *name, const std::string &value)
{
    json_builder_set_member_name(b, name);
    json_builder_add_string_value(b, value.c_str());
}

void time_member(JsonBuilder *b, const char *name, gint64 us)
{
    json_builder_set_member_name(b, name);
    if (!us) {
        json_builder_add_null_value(b);
        return;
    }
    GDateTime *t = g_date_time_new_from_unix_utc(us / G_USEC_PER_SEC);
    gchar *iso = g_date_time_format_iso8601(t);
    json_builder_add_string_value(b, iso);
    g_free(iso);
    g_date_time_unref(t);
}

void gateway_json(JsonBuilder *b, const ManagedGateway &g)
{
    json_builder_begin_object(b);
    member(b, "id", g.id);
    member(b, "template", g.tpl->name);
    member(b, "state", state_name(g.state));
    member(b, "origin", g.from_api ? "api" : "pool");
    if (g.from_api) {
        member(b, "mode", g.mode);
        member(b, "room", g.room);
        if (!g.dial.empty())
            member(b, "dial", g.dial);
    }
    member(b, "contact", g.contact);
    json_builder_set_member_name(b, "pid");
    json_builder_add_int_value(b, g.pid);
    time_member(b, "created", g.created_us);
    json_builder_set_member_name(b, "call");
    if (!g.call.happened) {
        json_builder_add_null_value(b);
    } else {
        json_builder_begin_object(b);
        member(b, "from", g.call.from);
        member(b, "to", g.call.to);
        time_member(b, "incoming", g.call.incoming_us);
        time_member(b, "established", g.call.established_us);
        json_builder_set_member_name(b, "codecs");
        json_builder_begin_object(b);
        for (auto &[node, codec] : g.call.codecs)
            member(b, node.c_str(), codec);
        json_builder_end_object(b);
        json_builder_end_object(b);
    }
    json_builder_end_object(b);
}

bool is_variable_name(const char *s)
{
    if (!s || !(g_ascii_isalpha(*s) || *s == '_') || strlen(s) > 64)
        return false;
    for (; *s; ++s)
        if (!g_ascii_isalnum(*s) && *s != '_')
            return false;
    return true;
}

// Counts a body as it arrives; past the bound it is no longer kept.
struct BodyCount {
    gsize bytes = 0;
    bool refused = false;
};

void refuse_body(SoupServerMessage *msg, BodyCount &c)
{
    if (c.refused)
        return;
    c.refused = true;
    SoupMessageBody *body = soup_server_message_get_request_body(msg);
    soup_message_body_set_accumulate(body, FALSE);
    soup_message_body_truncate(body);
    error(msg, 413, "request body over " + std::to_string(HttpApi::kMaxBody / 1024) + " KiB");
    soup_message_headers_replace(soup_server_message_get_response_headers(msg), "Connection", "close");
}

// A request must be read whole within kReadSeconds: a client that sends
// nothing, or a byte now and then, would otherwise hold its connection and
// descriptor for ever (libsoup has no such timeout).
constexpr guint kReadSeconds = 10;

void request_started(SoupServer *, SoupServerMessage *msg, gpointer)
{
    mgwsupport::arm_read_deadline(msg, kReadSeconds, [](SoupServerMessage *m) {
        if (GSocket *socket = soup_server_message_get_socket(m))
            g_socket_shutdown(socket, TRUE, TRUE, nullptr);
    });
}

template <typename F> void guarded(const char *what, F &&f)
{
    try {
        f();
    } catch (const std::exception &e) { // nothing thrown crosses libsoup's frames
        log(MGW_LOG_ERROR, "api", std::string(what) + ": " + e.what());
    } catch (...) {
        log(MGW_LOG_ERROR, "api", std::string(what) + ": unknown exception");
    }
}

} // namespace

HttpApi::HttpApi(Supervisor &supervisor, std::string token, bool metrics_public)
    : supervisor_(supervisor), token_(std::move(token)), metrics_public_(metrics_public)
{
    server_ = soup_server_new("server-header", "mediagw-serve", nullptr);
    g_signal_connect(server_, "request-started", G_CALLBACK(request_started), nullptr);
    soup_server_add_early_handler(server_, nullptr, &HttpApi::early, this, nullptr);
    soup_server_add_handler(server_, nullptr, &HttpApi::handle, this, nullptr);
}

HttpApi::~HttpApi()
{
    soup_server_disconnect(server_);
    g_object_unref(server_);
}

bool HttpApi::listen(const std::string &host_port, std::string &err)
{
    auto colon = host_port.rfind(':');
    std::string host = colon == std::string::npos ? "" : host_port.substr(0, colon);
    if (host.size() > 2 && host.front() == '[')
        host = host.substr(1, host.size() - 2);
    char *end = nullptr;
    long port = colon == std::string::npos ? -1 : strtol(host_port.c_str() + colon + 1, &end, 10);
    if (port < 0 || port > 65535 || !end || *end) {
        err = "api: \"" + host_port + "\" is not HOST:PORT";
        return false;
    }
    GSocketAddress *sa = g_inet_socket_address_new_from_string(host.c_str(), guint(port));
    if (!sa) {
        err = "api: \"" + host + "\" is not an IP address";
        return false;
    }
    GError *e = nullptr;
    gboolean ok = soup_server_listen(server_, sa, SoupServerListenOptions(0), &e);
    g_object_unref(sa);
    if (!ok) {
        err = "cannot serve the API on " + host_port + ": " + e->message;
        g_error_free(e);
        return false;
    }
    GSList *uris = soup_server_get_uris(server_);
    if (uris) {
        gchar *u = g_uri_to_string(static_cast<GUri *>(uris->data));
        url_ = u;
        g_free(u);
    }
    g_slist_free_full(uris, (GDestroyNotify)g_uri_unref);
    log(MGW_LOG_INFO, "api", "HTTP API on " + url_);
    return true;
}

// Every request: refused from its headers when Content-Length is over the
// bound; a chunked body counted as it comes.
void HttpApi::early(SoupServer *, SoupServerMessage *msg, const char *, GHashTable *, gpointer)
{
    guarded("HTTP request headers", [&] {
        auto *count = new BodyCount;
        g_signal_connect_data(msg, "got-chunk", G_CALLBACK(+[](SoupServerMessage *m, GBytes *chunk, gpointer data) {
                                  auto *c = static_cast<BodyCount *>(data);
                                  c->bytes += g_bytes_get_size(chunk);
                                  if (c->bytes > kMaxBody)
                                      refuse_body(m, *c);
                              }),
                              count, [](gpointer data, GClosure *) { delete static_cast<BodyCount *>(data); },
                              GConnectFlags(0));
        SoupMessageHeaders *h = soup_server_message_get_request_headers(msg);
        if (soup_message_headers_get_encoding(h) == SOUP_ENCODING_CONTENT_LENGTH &&
            soup_message_headers_get_content_length(h) > goffset(kMaxBody))
            refuse_body(msg, *count);
    });
}

void HttpApi::handle(SoupServer *, SoupServerMessage *msg, const char *path, GHashTable *, gpointer self)
{
    guarded("HTTP request", [&] {
        if (soup_server_message_get_status(msg) >= 400)
            return; // refused early
        static_cast<HttpApi *>(self)->route(msg, soup_server_message_get_method(msg), path);
    });
}

// Constant time: the comparison does not tell how much of a guess was right.
bool HttpApi::authorized(SoupServerMessage *msg) const
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

void HttpApi::route(SoupServerMessage *msg, const std::string &method, const std::string &path)
{
    auto only = [&](std::initializer_list<const char *> allowed) {
        for (const char *m : allowed)
            if (method == m)
                return true;
        std::string allow;
        for (const char *m : allowed)
            allow += (allow.empty() ? "" : ", ") + std::string(m);
        error(msg, 405, "use " + allow, "", {{"Allow", allow}});
        return false;
    };
    if (path == "/ready") {
        if (!only({"GET"}))
            return;
        const bool ok = supervisor_.accepting();
        const std::string why = supervisor_.draining() ? "draining" : ok ? "accepting" : "full";
        return respond(msg, ok ? 200 : 503, "application/json", "{\"ready\":" + std::string(ok ? "true" : "false") +
                                                                    ",\"state\":\"" + why + "\"}\n");
    }
    const bool is_metrics = path == "/metrics";
    if (!(is_metrics && metrics_public_) && !authorized(msg)) {
        const bool sent = soup_message_headers_get_one(soup_server_message_get_request_headers(msg), "Authorization");
        return error(msg, 401, sent ? "wrong bearer token" : "a bearer token is required", "",
                     {{"WWW-Authenticate", "Bearer"}});
    }
    if (is_metrics) {
        if (only({"GET"}))
            respond(msg, 200, "text/plain; version=0.0.4; charset=utf-8", render_metrics(supervisor_));
        return;
    }
    const std::string prefix = "/v1/gateways";
    if (path == prefix) {
        if (!only({"GET", "POST"}))
            return;
        if (method == "POST")
            return start_gateway(msg);
        JsonBuilder *b = json_builder_new();
        json_builder_begin_object(b);
        json_builder_set_member_name(b, "gateways");
        json_builder_begin_array(b);
        for (auto &[id, g] : supervisor_.gateways())
            gateway_json(b, *g);
        json_builder_end_array(b);
        json_builder_end_object(b);
        respond(msg, 200, "application/json", json_text(b) + "\n");
        g_object_unref(b);
        return;
    }
    if (path.rfind(prefix + "/", 0) != 0)
        return error(msg, 404, "no such resource: " + path);
    std::string id = path.substr(prefix.size() + 1), action;
    if (auto slash = id.find('/'); slash != std::string::npos) {
        action = id.substr(slash + 1);
        id = id.substr(0, slash);
    }
    ManagedGateway *g = supervisor_.find(id);
    if (!g || (!action.empty() && action != "dtmf"))
        return error(msg, 404, g ? "no such resource: " + path : "no gateway '" + id + "'");
    if (action == "dtmf") {
        if (only({"POST"}))
            dtmf(msg, id);
        return;
    }
    if (!only({"GET", "DELETE"}))
        return;
    if (method == "DELETE") {
        supervisor_.stop(id, "api", "DELETE /v1/gateways/" + id);
        g = supervisor_.find(id);
    }
    JsonBuilder *b = json_builder_new();
    gateway_json(b, *g);
    respond(msg, method == "DELETE" ? 202 : 200, "application/json", json_text(b) + "\n");
    g_object_unref(b);
}

namespace {

// The request body as a JSON object, or a 400 naming what is wrong.
JsonParser *parse_object(SoupServerMessage *msg, JsonObject *&object)
{
    SoupMessageBody *body = soup_server_message_get_request_body(msg);
    JsonParser *parser = json_parser_new();
    GError *err = nullptr;
    if (!body || !body->data || !body->length) {
        error(msg, 400, "a JSON object is required as the body", "(body)");
    } else if (!json_parser_load_from_data(parser, body->data, gssize(body->length), &err)) {
        error(msg, 400, std::string("malformed JSON: ") + err->message, "(body)");
        g_error_free(err);
    } else if (!json_parser_get_root(parser) || !JSON_NODE_HOLDS_OBJECT(json_parser_get_root(parser))) {
        error(msg, 400, "the body must be a JSON object", "(body)");
    } else {
        object = json_node_get_object(json_parser_get_root(parser));
        return parser;
    }
    g_object_unref(parser);
    return nullptr;
}

// A string member: nullopt and a 400 naming it when it is there but not a string.
bool string_member(SoupServerMessage *msg, JsonObject *o, const char *name, std::string &out, bool required)
{
    JsonNode *n = json_object_get_member(o, name);
    if (!n || JSON_NODE_HOLDS_NULL(n)) {
        if (required)
            error(msg, 400, std::string("\"") + name + "\" is required", name);
        return !required;
    }
    if (!JSON_NODE_HOLDS_VALUE(n) || json_node_get_value_type(n) != G_TYPE_STRING) {
        error(msg, 400, std::string("\"") + name + "\" must be a string", name);
        return false;
    }
    out = json_node_get_string(n);
    if (out.size() > 1024) {
        error(msg, 400, std::string("\"") + name + "\" is longer than 1024 characters", name);
        return false;
    }
    return true;
}

} // namespace

void HttpApi::start_gateway(SoupServerMessage *msg)
{
    JsonObject *o = nullptr;
    JsonParser *parser = parse_object(msg, o);
    if (!parser)
        return;
    std::unique_ptr<JsonParser, void (*)(JsonParser *)> hold(parser, [](JsonParser *p) { g_object_unref(p); });
    std::string tname, mode = "wait", dial, room;
    if (!string_member(msg, o, "template", tname, true) || !string_member(msg, o, "mode", mode, false) ||
        !string_member(msg, o, "dial", dial, false) || !string_member(msg, o, "room", room, false))
        return;
    GList *members = json_object_get_members(o);
    for (GList *m = members; m; m = m->next) {
        const std::string name = static_cast<const char *>(m->data);
        if (name != "template" && name != "mode" && name != "dial" && name != "room" && name != "values") {
            g_list_free(members);
            return error(msg, 400, "unknown field \"" + name + "\"", name);
        }
    }
    g_list_free(members);
    const Template *t = supervisor_.config().find(tname);
    if (!t)
        return error(msg, 400, "no template \"" + tname + "\"", "template");
    if (mode != "wait" && mode != "dial")
        return error(msg, 400, "\"mode\" must be \"wait\" or \"dial\"", "mode");
    if (mode == "dial" && dial.rfind("sip:", 0) != 0 && dial.rfind("sips:", 0) != 0)
        return error(msg, 400, "mode \"dial\" needs \"dial\": a sip: URI", "dial");
    if (mode == "wait" && !dial.empty())
        return error(msg, 400, "\"dial\" goes with mode \"dial\"", "dial");
    std::map<std::string, std::string> values;
    if (JsonNode *v = json_object_get_member(o, "values"); v && !JSON_NODE_HOLDS_NULL(v)) {
        if (!JSON_NODE_HOLDS_OBJECT(v))
            return error(msg, 400, "\"values\" must be an object of strings", "values");
        JsonObject *vo = json_node_get_object(v);
        GList *keys = json_object_get_members(vo);
        std::string bad;
        for (GList *k = keys; k && bad.empty(); k = k->next) {
            const char *key = static_cast<const char *>(k->data);
            JsonNode *val = json_object_get_member(vo, key);
            if (!is_variable_name(key) || g_str_has_prefix(key, "MEDIAGW_"))
                bad = std::string("values.") + key + ": not a variable name (letters, digits, _; not MEDIAGW_*)";
            else if (!JSON_NODE_HOLDS_VALUE(val) || json_node_get_value_type(val) != G_TYPE_STRING)
                bad = std::string("values.") + key + ": must be a string";
            else if (strlen(json_node_get_string(val)) > 1024)
                bad = std::string("values.") + key + ": longer than 1024 characters";
            else
                values[key] = json_node_get_string(val);
            if (!bad.empty()) {
                g_list_free(keys);
                return error(msg, 400, bad, std::string("values.") + key);
            }
        }
        g_list_free(keys);
    }
    if (!room.empty() && !values.count("ROOM"))
        values["ROOM"] = room;
    std::string refused;
    ManagedGateway *g = supervisor_.start_gateway(*t, mode, dial, room, values, refused);
    if (!g)
        return error(msg, 503, "refused: " + refused, "",
                     {{"Retry-After", std::to_string(supervisor_.config().retry_after)}});
    JsonBuilder *b = json_builder_new();
    gateway_json(b, *g);
    respond(msg, 201, "application/json", json_text(b) + "\n", {{"Location", "/v1/gateways/" + g->id}});
    g_object_unref(b);
}

void HttpApi::dtmf(SoupServerMessage *msg, const std::string &id)
{
    JsonObject *o = nullptr;
    JsonParser *parser = parse_object(msg, o);
    if (!parser)
        return;
    std::unique_ptr<JsonParser, void (*)(JsonParser *)> hold(parser, [](JsonParser *p) { g_object_unref(p); });
    std::string digits;
    if (!string_member(msg, o, "digits", digits, true))
        return;
    if (digits.empty() || digits.size() > 32 || digits.find_first_not_of("0123456789*#ABCDabcd") != std::string::npos)
        return error(msg, 400, "\"digits\": 1 to 32 of 0-9 * # A-D", "digits");
    JsonBuilder *b = json_builder_new();
    json_builder_begin_object(b);
    member(b, "command", "event");
    member(b, "name", "dtmf.send");
    json_builder_set_member_name(b, "fields");
    json_builder_begin_object(b);
    member(b, "digit", digits);
    json_builder_end_object(b);
    json_builder_end_object(b);
    const bool sent = supervisor_.send_command(id, json_text(b));
    g_object_unref(b);
    if (!sent)
        return error(msg, 409, "the gateway is not taking commands (stopping?)");
    respond(msg, 202, "application/json", "{\"sent\":\"" + digits + "\"}\n");
}

} // namespace mediagw::serve
