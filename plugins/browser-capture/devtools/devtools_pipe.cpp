#include "devtools_pipe.hpp"

#include <glib-unix.h>

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace browsercapture {

std::string json_quote(const std::string &text)
{
    JsonNode *node = json_node_init_string(json_node_alloc(), text.c_str());
    gchar *quoted = json_to_string(node, FALSE);
    std::string out = quoted;
    g_free(quoted);
    json_node_unref(node);
    return out;
}

DevToolsPipe::DevToolsPipe(int to_browser, int from_browser, Event event, Closed closed)
    : to_(to_browser), from_(from_browser), event_(std::move(event)), closed_(std::move(closed))
{
    g_unix_set_fd_nonblocking(to_, TRUE, nullptr);
    g_unix_set_fd_nonblocking(from_, TRUE, nullptr);
    read_watch_ = g_unix_fd_add(from_, GIOCondition(G_IO_IN | G_IO_HUP | G_IO_ERR), on_readable, this);
}

DevToolsPipe::~DevToolsPipe()
{
    closed_ = nullptr;
    event_ = nullptr;
    for (auto &[id, p] : pending_)
        if (p.timer)
            g_source_remove(p.timer);
    pending_.clear();
    if (read_watch_)
        g_source_remove(read_watch_);
    if (write_watch_)
        g_source_remove(write_watch_);
    if (to_ >= 0)
        close(to_);
    if (from_ >= 0)
        close(from_);
}

void DevToolsPipe::call(const std::string &method, const std::string &params_json, const std::string &session,
                        Done done, guint timeout_ms)
{
    if (!open()) {
        Reply r;
        r.error = "the DevTools pipe is closed";
        if (done)
            done(r);
        return;
    }
    const int id = next_id_++;
    std::string msg = "{\"id\":" + std::to_string(id) + ",\"method\":" + json_quote(method);
    if (!session.empty())
        msg += ",\"sessionId\":" + json_quote(session);
    msg += ",\"params\":" + (params_json.empty() ? std::string("{}") : params_json) + "}";
    out_ += msg;
    out_ += '\0';
    Pending &p = pending_[id];
    p.done = std::move(done);
    struct Timeout {
        DevToolsPipe *self;
        std::weak_ptr<int> alive;
        int id;
        std::string method;
    };
    p.timer = g_timeout_add_full(
        G_PRIORITY_DEFAULT, timeout_ms,
        [](gpointer data) -> gboolean {
            auto *t = static_cast<Timeout *>(data);
            if (t->alive.lock()) try {
                auto it = t->self->pending_.find(t->id);
                if (it != t->self->pending_.end()) {
                    it->second.timer = 0;
                    Reply r;
                    r.error = t->method + " timed out";
                    t->self->finish(t->id, r);
                }
            } catch (...) {
                g_critical("browser-capture: a DevTools reply handler threw");
            }
            return G_SOURCE_REMOVE;
        },
        new Timeout{this, alive_, id, method}, [](gpointer data) { delete static_cast<Timeout *>(data); });
    flush();
}

void DevToolsPipe::finish(int id, const Reply &reply)
{
    auto it = pending_.find(id);
    if (it == pending_.end())
        return;
    Pending p = std::move(it->second);
    pending_.erase(it);
    if (p.timer)
        g_source_remove(p.timer);
    if (p.done)
        p.done(reply);
}

void DevToolsPipe::flush()
{
    while (!out_.empty()) {
        const ssize_t n = write(to_, out_.data(), out_.size());
        if (n > 0) {
            out_.erase(0, size_t(n));
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno == EAGAIN) {
            if (!write_watch_)
                write_watch_ = g_unix_fd_add(to_, G_IO_OUT, on_writable, this);
            return;
        }
        close_pipe(std::string("writing to Chromium failed: ") + strerror(errno));
        return;
    }
    if (write_watch_) {
        g_source_remove(write_watch_);
        write_watch_ = 0;
    }
}

gboolean DevToolsPipe::on_writable(gint, GIOCondition, gpointer data)
{
    auto *self = static_cast<DevToolsPipe *>(data);
    self->write_watch_ = 0;
    try {
        self->flush(); // a reply handler may run when the pipe closes
    } catch (const std::exception &e) {
        g_critical("browser-capture: a DevTools reply handler threw: %s", e.what());
    } catch (...) {
        g_critical("browser-capture: a DevTools reply handler threw");
    }
    return G_SOURCE_REMOVE;
}

gboolean DevToolsPipe::on_readable(gint, GIOCondition, gpointer data)
{
    auto *self = static_cast<DevToolsPipe *>(data);
    std::weak_ptr<int> alive = self->alive_;
    // The last line before a C frame: the handlers below guard themselves.
    try {
        self->read_some();
    } catch (const std::exception &e) {
        g_critical("browser-capture: a DevTools message handler threw: %s", e.what());
    } catch (...) {
        g_critical("browser-capture: a DevTools message handler threw");
    }
    if (!alive.lock())
        return G_SOURCE_REMOVE;
    return self->read_watch_ ? G_SOURCE_CONTINUE : G_SOURCE_REMOVE;
}

void DevToolsPipe::read_some()
{
    char buf[65536];
    std::weak_ptr<int> alive = alive_;
    for (;;) {
        const ssize_t n = read(from_, buf, sizeof buf);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno == EAGAIN)
            return;
        if (n <= 0) {
            close_pipe(n == 0 ? "Chromium closed the DevTools pipe" : std::string("reading from Chromium failed: ") +
                                                                           strerror(errno));
            return;
        }
        in_.append(buf, size_t(n));
        size_t end;
        while ((end = in_.find('\0')) != std::string::npos) {
            std::string message = in_.substr(0, end);
            in_.erase(0, end + 1);
            dispatch(message);
            if (!alive.lock() || !read_watch_)
                return;
        }
        if (in_.size() > max_message) {
            close_pipe("Chromium sent a DevTools message over " + std::to_string(max_message) + " bytes");
            return;
        }
    }
}

void DevToolsPipe::dispatch(const std::string &message)
{
    JsonParser *parser = json_parser_new();
    GError *error = nullptr;
    if (!json_parser_load_from_data(parser, message.data(), gssize(message.size()), &error)) {
        g_warning("browser-capture: DevTools message is not JSON: %s", error->message);
        g_error_free(error);
        g_object_unref(parser);
        return;
    }
    JsonNode *root = json_parser_get_root(parser);
    JsonObject *obj = root && JSON_NODE_HOLDS_OBJECT(root) ? json_node_get_object(root) : nullptr;
    if (!obj) {
        g_object_unref(parser);
        return;
    }
    const char *session = json_object_has_member(obj, "sessionId") ? json_object_get_string_member(obj, "sessionId")
                                                                     : nullptr;
    if (json_object_has_member(obj, "id")) {
        const int id = int(json_object_get_int_member(obj, "id"));
        Reply r;
        if (json_object_has_member(obj, "error")) {
            JsonObject *err = json_object_get_object_member(obj, "error");
            const char *text = err && json_object_has_member(err, "message")
                                   ? json_object_get_string_member(err, "message")
                                   : nullptr;
            r.error = text ? text : "DevTools error";
        } else {
            r.ok = true;
            r.result = json_object_has_member(obj, "result") ? json_object_get_object_member(obj, "result") : nullptr;
        }
        finish(id, r);
    } else if (json_object_has_member(obj, "method") && event_) {
        const char *method = json_object_get_string_member(obj, "method");
        JsonObject *params =
            json_object_has_member(obj, "params") ? json_object_get_object_member(obj, "params") : nullptr;
        if (method) {
            auto event = event_; // the handler may destroy this
            event(method, params, session ? session : "");
        }
    }
    g_object_unref(parser);
}

void DevToolsPipe::close_pipe(const std::string &why)
{
    if (read_watch_) {
        g_source_remove(read_watch_);
        read_watch_ = 0;
    }
    if (write_watch_) {
        g_source_remove(write_watch_);
        write_watch_ = 0;
    }
    std::weak_ptr<int> alive = alive_;
    while (!pending_.empty() && alive.lock()) {
        Reply r;
        r.error = why;
        finish(pending_.begin()->first, r);
    }
    if (alive.lock() && closed_) {
        auto closed = closed_;
        closed(why);
    }
}

} // namespace browsercapture
