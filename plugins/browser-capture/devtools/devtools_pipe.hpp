// The DevTools protocol over --remote-debugging-pipe: Chromium reads commands
// from its fd 3 and writes replies and events to its fd 4, each message JSON
// ended by a NUL byte. No TCP port exists that anyone else could reach.
// Everything runs on the main loop; every read is bounded before it is kept.
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>

#include <functional>
#include <map>
#include <memory>
#include <string>

namespace browsercapture {

// A JSON string literal of `text` (for composing params and page scripts).
std::string json_quote(const std::string &text);

class DevToolsPipe {
public:
    struct Reply {
        bool ok = false;
        std::string error;          // protocol error, timeout, or the pipe closing
        JsonObject *result = nullptr; // valid only during the callback
    };
    using Done = std::function<void(const Reply &)>;
    using Event = std::function<void(const std::string &method, JsonObject *params, const std::string &session)>;
    using Closed = std::function<void(const std::string &why)>;

    // A message bigger than this closes the pipe (a screenshot is never asked for).
    static constexpr size_t max_message = 8 * 1024 * 1024;

    // `to_browser`: our end of Chromium's fd 3; `from_browser`: of its fd 4.
    // Both are owned (closed) by this object.
    DevToolsPipe(int to_browser, int from_browser, Event event, Closed closed);
    ~DevToolsPipe();
    DevToolsPipe(const DevToolsPipe &) = delete;
    DevToolsPipe &operator=(const DevToolsPipe &) = delete;

    // `params_json`: an object's JSON text ("{}" for none); `session`: a
    // flattened target session, or "" for the browser. `done` runs once:
    // with the result, the error, or "timed out" after `timeout_ms`.
    void call(const std::string &method, const std::string &params_json, const std::string &session, Done done,
              guint timeout_ms = 10000);

    bool open() const { return read_watch_ != 0; }

private:
    struct Pending {
        Done done;
        guint timer = 0;
    };
    static gboolean on_readable(gint fd, GIOCondition cond, gpointer self);
    static gboolean on_writable(gint fd, GIOCondition cond, gpointer self);
    void read_some();
    void dispatch(const std::string &message);
    void flush();
    void close_pipe(const std::string &why);
    void finish(int id, const Reply &reply);

    int to_ = -1, from_ = -1;
    guint read_watch_ = 0, write_watch_ = 0;
    std::string in_, out_;
    int next_id_ = 1;
    std::map<int, Pending> pending_;
    Event event_;
    Closed closed_;
    std::shared_ptr<int> alive_ = std::make_shared<int>(0);
};

} // namespace browsercapture
