#include "call_record.hpp"

#include "log.hpp"

#include <libsoup/soup.h>

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace mediagw::serve {

namespace {

int write_all(int fd, const std::string &s)
{
    size_t done = 0;
    while (done < s.size()) {
        ssize_t n = ::write(fd, s.data() + done, s.size() - done);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        done += size_t(n);
    }
    return 0;
}

} // namespace

CallRecords::CallRecords(std::string path, std::string url) : path_(std::move(path)), url_(std::move(url))
{
    if (!url_.empty())
        session_ = soup_session_new_with_options("timeout", 10, "user-agent", "mediagw-serve", nullptr);
}

CallRecords::~CallRecords()
{
    if (session_)
        g_object_unref(session_);
}

void CallRecords::write(JsonNode *record)
{
    gchar *text = json_to_string(record, FALSE);
    std::string line = std::string(text) + "\n";
    g_free(text);
    json_node_unref(record);
    ++written_;
    if (!path_.empty()) {
        // One write() of the whole line with O_APPEND: lines never interleave.
        int fd = open(path_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
        if (fd < 0 || write_all(fd, line) != 0)
            log(MGW_LOG_ERROR, "serve", "call record not written to " + path_ + ": " + strerror(errno));
        if (fd >= 0)
            close(fd);
    }
    if (session_) {
        SoupMessage *msg = soup_message_new("POST", url_.c_str());
        if (!msg) {
            log(MGW_LOG_ERROR, "serve", "records_url is not a URL: the record is not POSTed");
            return;
        }
        GBytes *body = g_bytes_new(line.data(), line.size());
        soup_message_set_request_body_from_bytes(msg, "application/json", body);
        g_bytes_unref(body);
        struct Post {
            CallRecords *self;
            SoupMessage *msg;
        };
        ++posting_;
        soup_session_send_and_read_async(
            session_, msg, G_PRIORITY_DEFAULT, nullptr,
            [](GObject *source, GAsyncResult *res, gpointer data) {
                auto post = static_cast<Post *>(data);
                auto m = post->msg;
                --post->self->posting_;
                delete post;
                GError *err = nullptr;
                GBytes *reply = soup_session_send_and_read_finish(SOUP_SESSION(source), res, &err);
                if (err) {
                    log(MGW_LOG_WARNING, "serve", std::string("call record POST failed: ") + err->message);
                    g_error_free(err);
                } else if (soup_message_get_status(m) >= 300) {
                    log(MGW_LOG_WARNING, "serve",
                        "call record POST answered " + std::to_string(soup_message_get_status(m)));
                }
                if (reply)
                    g_bytes_unref(reply);
                g_object_unref(m);
            },
            new Post{this, msg});
    }
}

void CallRecords::flush(int ms)
{
    const gint64 end = g_get_monotonic_time() + gint64(ms) * 1000;
    while (posting_ > 0 && g_get_monotonic_time() < end)
        if (!g_main_context_iteration(nullptr, FALSE))
            g_usleep(5000);
    if (posting_ > 0)
        log(MGW_LOG_WARNING, "serve", std::to_string(posting_) + " call record POSTs unfinished at exit");
}

} // namespace mediagw::serve
