// No C++ exception may cross a C frame (a GLib, GStreamer or libsoup
// callback: unwinding through C is undefined behaviour, and a throw on a
// streaming thread would terminate the gateway). Every callback entry point
// of this plugin runs its body through guarded(), which turns an escaping
// exception into the node's failure.
#pragma once

#include <glib.h>

#include <exception>
#include <functional>
#include <string>

namespace webrtcdirect {

// The node's failure (the host API's `fail`: the gateway drains and exits
// 1). Callable from any thread: the host marshals it to the main loop.
using Fail = std::function<void(const std::string &reason)>;

inline void report_exception(const Fail &fail, const char *where, const char *what) noexcept
{
    try {
        if (fail) {
            fail(std::string(where) + ": " + what);
            return;
        }
    } catch (...) {
    }
    g_critical("webrtc-direct: %s: %s (and no node to fail)", where, what);
}

// `where` names the callback ("webrtcbin pad-added", ...) in the reason.
template <typename F> void guarded(const Fail &fail, const char *where, F &&body) noexcept
{
    try {
        body();
    } catch (const std::exception &e) {
        report_exception(fail, where, e.what());
    } catch (...) {
        report_exception(fail, where, "unknown exception");
    }
}

} // namespace webrtcdirect
