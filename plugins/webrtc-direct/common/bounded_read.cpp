#include "common/bounded_read.hpp"

#include <algorithm>
#include <memory>
#include <string>

namespace webrtcdirect {
namespace {

constexpr gsize kReadBlock = 16 * 1024;

struct Read {
    SoupMessage *msg;
    GCancellable *cancel;
    gsize limit;
    Fail fail;
    BodyDone done;
    GInputStream *stream = nullptr;
    GByteArray *body = g_byte_array_new();

    ~Read()
    {
        if (stream) {
            // Before the end of the body: libsoup drops the connection
            // rather than reading on (no I/O happens here).
            g_input_stream_close(stream, nullptr, nullptr);
            g_object_unref(stream);
        }
        g_byte_array_unref(body);
        g_object_unref(msg);
        if (cancel)
            g_object_unref(cancel);
    }

    // Owners cancel before they go: whatever completed, `done` then only
    // hears "cancelled".
    void finish(GBytes *bytes, GError *error)
    {
        GError *cancelled = nullptr;
        if (cancel && g_cancellable_set_error_if_cancelled(cancel, &cancelled))
            bytes = nullptr, error = cancelled;
        guarded(fail, "HTTP response", [&] { done(bytes, error); });
        g_clear_error(&cancelled);
    }

    void too_large(const std::string &how)
    {
        GError *error = g_error_new(G_IO_ERROR, G_IO_ERROR_MESSAGE_TOO_LARGE,
                                    "the answer from %s (HTTP %u) is over %zu KiB (%s): not read",
                                    url_for_messages(msg).c_str(), soup_message_get_status(msg), limit / 1024,
                                    how.c_str());
        finish(nullptr, error);
        g_error_free(error);
    }
};

void read_more(std::unique_ptr<Read> r);
void take_block(std::unique_ptr<Read> r, GInputStream *source, GAsyncResult *result);
void take_headers(std::unique_ptr<Read> r, SoupSession *session, GAsyncResult *result);

void got_block(GObject *source, GAsyncResult *result, gpointer data)
{
    std::unique_ptr<Read> r(static_cast<Read *>(data));
    const Fail fail = r->fail;
    guarded(fail, "HTTP response body", [&] { take_block(std::move(r), G_INPUT_STREAM(source), result); });
}

void take_block(std::unique_ptr<Read> r, GInputStream *source, GAsyncResult *result)
{
    GError *error = nullptr;
    GBytes *block = g_input_stream_read_bytes_finish(source, result, &error);
    if (!block) {
        r->finish(nullptr, error);
        g_error_free(error);
        return;
    }
    const gsize size = g_bytes_get_size(block);
    if (size == 0) { // the end of the body
        g_bytes_unref(block);
        g_input_stream_close(r->stream, nullptr, nullptr);
        g_clear_object(&r->stream);
        GBytes *body = g_byte_array_free_to_bytes(r->body);
        r->body = g_byte_array_new();
        r->finish(body, nullptr);
        g_bytes_unref(body);
        return;
    }
    g_byte_array_append(r->body, static_cast<const guint8 *>(g_bytes_get_data(block, nullptr)), (guint)size);
    g_bytes_unref(block);
    if (r->body->len > r->limit)
        return r->too_large("more came");
    read_more(std::move(r));
}

// One more block, at most one byte past the bound: enough to know it is passed.
void read_more(std::unique_ptr<Read> r)
{
    const gsize want = std::min(kReadBlock, r->limit + 1 - r->body->len);
    GInputStream *stream = r->stream;
    GCancellable *cancel = r->cancel;
    g_input_stream_read_bytes_async(stream, want, G_PRIORITY_DEFAULT, cancel, got_block, r.release());
}

void sent(GObject *source, GAsyncResult *result, gpointer data)
{
    std::unique_ptr<Read> r(static_cast<Read *>(data));
    const Fail fail = r->fail;
    guarded(fail, "HTTP response", [&] { take_headers(std::move(r), SOUP_SESSION(source), result); });
}

void take_headers(std::unique_ptr<Read> r, SoupSession *session, GAsyncResult *result)
{
    GError *error = nullptr;
    r->stream = soup_session_send_finish(session, result, &error);
    if (!r->stream) {
        r->finish(nullptr, error);
        g_error_free(error);
        return;
    }
    SoupMessageHeaders *headers = soup_message_get_response_headers(r->msg);
    if (soup_message_headers_get_encoding(headers) == SOUP_ENCODING_CONTENT_LENGTH &&
        soup_message_headers_get_content_length(headers) > (goffset)r->limit)
        return r->too_large("Content-Length " + std::to_string(soup_message_headers_get_content_length(headers)));
    read_more(std::move(r));
}

} // namespace

void send_bounded(SoupSession *session, SoupMessage *msg, GCancellable *cancel, gsize limit, Fail fail,
                  BodyDone done)
{
    auto *r = new Read{SOUP_MESSAGE(g_object_ref(msg)), cancel ? G_CANCELLABLE(g_object_ref(cancel)) : nullptr,
                       limit, std::move(fail), std::move(done)};
    soup_session_send_async(session, msg, G_PRIORITY_DEFAULT, cancel, sent, r);
}

std::string url_for_messages(SoupMessage *msg)
{
    GUri *uri = soup_message_get_uri(msg);
    if (!uri)
        return "(no URL)";
    gchar *text = g_uri_to_string_partial(uri, (GUriHideFlags)(G_URI_HIDE_USERINFO | G_URI_HIDE_QUERY));
    std::string out = text;
    g_free(text);
    return out;
}

} // namespace webrtcdirect
