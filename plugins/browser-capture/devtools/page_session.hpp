// One page (a tab) of the node's Chromium over the DevTools pipe: our script
// installed before any of the page's own, a binding for its messages to the
// node, the viewport at the configured size, the page opened and its load
// awaited (bounded), scripts evaluated, dialogs dismissed, a renderer crash
// or the tab closing reported.
#pragma once

#include "devtools_pipe.hpp"
#include "eval_result.hpp"

#include <functional>
#include <memory>
#include <string>

namespace browsercapture {

class PageSession {
public:
    struct Callbacks {
        std::function<void()> loaded;                         // the page's load event, once per open()
        std::function<void(const std::string &why)> failed;   // not loaded, crashed, closed
        // A message from our script: bounded in size, not yet parsed.
        std::function<void(const std::string &payload, int context)> message;
    };
    static constexpr size_t max_message = 256 * 1024;

    PageSession(DevToolsPipe &pipe, std::string binding, std::string script, int width, int height, Callbacks cb);
    ~PageSession();

    // Opens `url` in a new tab; `loaded` or `failed` follows within `load_timeout_ms`.
    void open(const std::string &url, guint load_timeout_ms);
    // Runs `expression` in the page (a promise is awaited); `context` 0: the
    // top frame's current document.
    void evaluate(const std::string &expression, std::function<void(const EvalResult &)> done, int context = 0,
                  guint timeout_ms = 10000);
    // Grows or shrinks the window until the page's viewport is the
    // configured size (browser UI and infobars take their share), then `then`.
    void fit_viewport(std::function<void()> then);
    // Every DevTools event goes through here (the node forwards them).
    void on_event(const std::string &method, JsonObject *params, const std::string &session);

    const std::string &url() const { return url_; }

private:
    void step(size_t i);
    void navigate();
    void fail(const std::string &why);

    DevToolsPipe &pipe_;
    std::string binding_, script_;
    int width_, height_;
    Callbacks cb_;
    std::string url_, target_, session_;
    guint load_timeout_ms_ = 0, load_timer_ = 0;
    bool loading_ = false, failed_ = false;
    std::shared_ptr<int> alive_ = std::make_shared<int>(0);
};

} // namespace browsercapture
