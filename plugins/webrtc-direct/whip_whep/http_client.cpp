#include "whip_whep/http_client.hpp"

#include "common/bounded_read.hpp"
#include "whip_whep/origin.hpp"

#include <memory>

namespace webrtcdirect {

SessionResource::SessionResource(std::string url, std::string token, Log log, Fail fail, guint timeout_s)
    : url_(std::move(url)), token_(std::move(token)), log_(std::move(log)), fail_(std::move(fail)),
      session_(soup_session_new_with_options("timeout", timeout_s, "user-agent", "mediagw", nullptr)),
      cancel_(g_cancellable_new())
{
}

SessionResource::~SessionResource()
{
    g_cancellable_cancel(cancel_);
    g_object_unref(cancel_);
    g_object_unref(session_);
}

// The bearer token goes to the configured server's origin only: a redirect
// or a Location elsewhere gets the request without it.
SoupMessage *SessionResource::request(const char *method, const std::string &url)
{
    SoupMessage *msg = soup_message_new(method, url.c_str());
    if (msg && !token_.empty() && same_origin(url, url_))
        soup_message_headers_replace(soup_message_get_request_headers(msg), "Authorization",
                                     ("Bearer " + token_).c_str());
    return msg;
}

namespace {

// The answer as Reply has it: status line, body, Location (absolute), ETag, Links.
SessionResource::Reply reply_of(SoupMessage *msg, GBytes *body)
{
    SessionResource::Reply r;
    r.status = (int)soup_message_get_status(msg);
    r.reason = soup_message_get_reason_phrase(msg) ? soup_message_get_reason_phrase(msg) : "";
    gsize size = 0;
    const char *data = static_cast<const char *>(g_bytes_get_data(body, &size));
    r.body.assign(data ? data : "", size);
    SoupMessageHeaders *headers = soup_message_get_response_headers(msg);
    if (const char *loc = soup_message_headers_get_one(headers, "Location")) {
        // Relative to where the request ended up (after redirects).
        gchar *base = g_uri_to_string(soup_message_get_uri(msg));
        gchar *abs = g_uri_resolve_relative(base, loc, G_URI_FLAGS_NONE, nullptr);
        r.location = abs ? abs : loc;
        g_free(abs);
        g_free(base);
    }
    if (const char *etag = soup_message_headers_get_one(headers, "ETag"))
        r.etag = etag;
    soup_message_headers_foreach(
        headers,
        [](const char *name, const char *value, gpointer links) {
            if (g_ascii_strcasecmp(name, "Link") == 0)
                static_cast<std::vector<std::string> *>(links)->emplace_back(value);
        },
        &r.links);
    return r;
}

} // namespace

// `msg` is taken. `done` does not run once this object is gone (its
// requests are cancelled).
void SessionResource::send(SoupMessage *msg, std::function<void(Reply &&)> done)
{
    send_bounded(session_, msg, cancel_, kMaxAnswer, fail_, [msg, done = std::move(done)](GBytes *body, const GError *error) {
        if (error && g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
            return; // the owner is gone
        if (error) {
            Reply r;
            r.reason = error->message;
            return done(std::move(r));
        }
        done(reply_of(msg, body));
    });
    g_object_unref(msg);
}

void SessionResource::create(const std::string &offer_sdp, std::function<void(const Reply &)> done)
{
    std::string error;
    if (!fragment_.set_offer(offer_sdp, error)) {
        trickle_off_ = true;
        log_("no trickle ICE: " + error);
    }
    post(url_, offer_sdp, 0, std::move(done));
}

// 307/308 (WHIP's redirects) are followed here with the same body; libsoup
// would not re-send a POST. Five hops at most.
void SessionResource::post(const std::string &url, const std::string &offer_sdp, int hops,
                           std::function<void(const Reply &)> done)
{
    SoupMessage *msg = request("POST", url);
    if (!msg) {
        done({0, "not a valid URL: " + url, "", "", "", {}});
        return;
    }
    soup_message_add_flags(msg, SOUP_MESSAGE_NO_REDIRECT);
    GBytes *bytes = g_bytes_new(offer_sdp.data(), offer_sdp.size());
    soup_message_set_request_body_from_bytes(msg, "application/sdp", bytes);
    g_bytes_unref(bytes);
    send(msg, [this, offer_sdp, hops, done = std::move(done)](Reply &&r) {
        if ((r.status == 307 || r.status == 308) && !r.location.empty() && hops < 5)
            return post(r.location, offer_sdp, hops + 1, done);
        if (r.status == 201) {
            resource_ = r.location;
            etag_ = r.etag;
            send_candidates(); // those gathered while the POST was under way
        }
        done(r); // last: it may end the session
    });
}

void SessionResource::trickle(guint mline, const std::string &candidate)
{
    if (trickle_off_)
        return;
    queued_.emplace_back(mline, candidate.rfind("a=", 0) == 0 ? candidate.substr(2) : candidate);
    send_candidates();
}

// One PATCH at a time (RFC 9725 section 4.3.1: If-Match carries the 201's
// entity-tag when the server gave one); what queues meanwhile goes in the next.
void SessionResource::send_candidates()
{
    if (resource_.empty() || patching_ || trickle_off_ || queued_.empty())
        return;
    SoupMessage *msg = request("PATCH", resource_);
    if (!msg)
        return;
    if (!etag_.empty())
        soup_message_headers_replace(soup_message_get_request_headers(msg), "If-Match", etag_.c_str());
    const std::string frag = fragment_.build(queued_);
    const size_t count = queued_.size();
    queued_.clear();
    GBytes *bytes = g_bytes_new(frag.data(), frag.size());
    soup_message_set_request_body_from_bytes(msg, "application/trickle-ice-sdpfrag", bytes);
    g_bytes_unref(bytes);
    patching_ = true;
    send(msg, [this, count](Reply &&r) {
        patching_ = false;
        if (r.status == 405 || r.status == 501) {
            trickle_off_ = true;
            queued_.clear();
            log_("the server takes no trickled candidates (PATCH: HTTP " + std::to_string(r.status) + " " + r.reason +
                 "): later candidates stay local");
            return;
        }
        if (r.status < 200 || r.status >= 300)
            log_("PATCH of " + std::to_string(count) + " candidate(s) failed: " +
                 (r.status ? "HTTP " + std::to_string(r.status) + " " : "") + r.reason);
        send_candidates();
    });
}

void SessionResource::remove(std::function<void()> done)
{
    SoupMessage *msg = resource_.empty() ? nullptr : request("DELETE", resource_);
    resource_.clear();
    queued_.clear();
    trickle_off_ = true;
    if (!msg) {
        done();
        return;
    }
    send(msg, [done = std::move(done)](Reply &&) { done(); });
}

} // namespace webrtcdirect
