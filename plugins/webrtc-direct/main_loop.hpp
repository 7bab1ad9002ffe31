// Hand work to the gateway's main loop from any thread (webrtcbin promises and
// signals fire on its own threads; the node's state lives on the main loop).
#pragma once

#include <glib.h>

#include <functional>
#include <memory>

namespace webrtcdirect {

inline void on_main_loop(std::function<void()> fn)
{
    auto *job = new std::function<void()>(std::move(fn));
    g_main_context_invoke_full(
        nullptr, G_PRIORITY_DEFAULT,
        [](gpointer data) -> gboolean {
            (*static_cast<std::function<void()> *>(data))();
            return G_SOURCE_REMOVE;
        },
        job, [](gpointer data) { delete static_cast<std::function<void()> *>(data); });
}

// Same, but skipped when `owner` is gone by the time the loop runs it.
template <typename T> void on_main_loop(const std::weak_ptr<T> &owner, std::function<void(T &)> fn)
{
    on_main_loop([owner, fn = std::move(fn)] {
        if (auto self = owner.lock())
            fn(*self);
    });
}

} // namespace webrtcdirect
