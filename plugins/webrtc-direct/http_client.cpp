#include "http_client.hpp"

#include <memory>

namespace webrtcdirect {

SessionResource::SessionResource(std::string url, std::string token, Log log, guint timeout_s)
    : url_(std::move(url)), token_(std::move(token)), log_(std::move(log)),
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

SoupMessage *SessionResource::request(const char *method, const std::string &url)
{
    SoupMessage *msg = soup_message_new(method, url.c_str());
    if (msg && !token_.empty())
        soup_message_headers_replace(soup_message_get_request_headers(msg), "Authorization",
                                     ("Bearer " + token_).c_str());
    return msg;
}

namespace {
struct Call {
    SoupMessage *msg;
    std::function<void(SessionResource::Reply &&)> done;
};

void finished(GObject *source, GAsyncResult *result, gpointer data)
{
    std::unique_ptr<Call> call(static_cast<Call *>(data));
    GError *error = nullptr;
    GBytes *body = soup_session_send_and_read_finish(SOUP_SESSION(source), result, &error);
    SessionResource::Reply r;
    if (error) {
        r.reason = error->message;
        const bool cancelled = g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
        g_error_free(error);
        g_object_unref(call->msg);
        if (cancelled)
            return; // the owner is gone
        call->done(std::move(r));
        return;
    }
    r.status = (int)soup_message_get_status(call->msg);
    r.reason = soup_message_get_reason_phrase(call->msg) ? soup_message_get_reason_phrase(call->msg) : "";
    gsize size = 0;
    const char *data_ptr = static_cast<const char *>(g_bytes_get_data(body, &size));
    r.body.assign(data_ptr ? data_ptr : "", size);
    g_bytes_unref(body);
    SoupMessageHeaders *headers = soup_message_get_response_headers(call->msg);
    if (const char *loc = soup_message_headers_get_one(headers, "Location")) {
        // Relative to where the POST ended up (after redirects).
        gchar *base = g_uri_to_string(soup_message_get_uri(call->msg));
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
    g_object_unref(call->msg);
    call->done(std::move(r));
}
} // namespace

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
    auto *call = new Call{msg, [this, offer_sdp, hops, done = std::move(done)](Reply &&r) {
                              if ((r.status == 307 || r.status == 308) && !r.location.empty() && hops < 5)
                                  return post(r.location, offer_sdp, hops + 1, done);
                              if (r.status == 201) {
                                  resource_ = r.location;
                                  etag_ = r.etag;
                                  send_candidates(); // those gathered while the POST was under way
                              }
                              done(r); // last: it may end the session
                          }};
    soup_session_send_and_read_async(session_, msg, G_PRIORITY_DEFAULT, cancel_, finished, call);
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
    auto *call = new Call{msg, [this, count](Reply &&r) {
                              patching_ = false;
                              if (r.status == 405 || r.status == 501) {
                                  trickle_off_ = true;
                                  queued_.clear();
                                  log_("the server takes no trickled candidates (PATCH: HTTP " +
                                       std::to_string(r.status) + " " + r.reason +
                                       "): later candidates stay local");
                                  return;
                              }
                              if (r.status < 200 || r.status >= 300)
                                  log_("PATCH of " + std::to_string(count) + " candidate(s) failed: " +
                                       (r.status ? "HTTP " + std::to_string(r.status) + " " : "") + r.reason);
                              send_candidates();
                          }};
    soup_session_send_and_read_async(session_, msg, G_PRIORITY_DEFAULT, cancel_, finished, call);
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
    auto *call = new Call{msg, [done = std::move(done)](Reply &&) { done(); }};
    soup_session_send_and_read_async(session_, msg, G_PRIORITY_DEFAULT, cancel_, finished, call);
}

} // namespace webrtcdirect
