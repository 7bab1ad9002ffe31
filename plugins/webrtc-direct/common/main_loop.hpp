// Hand work to the gateway's main loop from any thread (webrtcbin promises and
// signals fire on its own threads; the node's state lives on the main loop).
#pragma once

#include "common/guard.hpp"

#include <glib.h>

#include <functional>
#include <memory>

namespace webrtcdirect {

// `fail`: what an exception thrown by `fn` becomes (guard.hpp).
inline void on_main_loop(Fail fail, std::function<void()> fn)
{
    struct Job {
        Fail fail;
        std::function<void()> fn;
    };
    g_main_context_invoke_full(
        nullptr, G_PRIORITY_DEFAULT,
        [](gpointer data) -> gboolean {
            auto *job = static_cast<Job *>(data);
            guarded(job->fail, "main loop job", job->fn);
            return G_SOURCE_REMOVE;
        },
        new Job{std::move(fail), std::move(fn)}, [](gpointer data) { delete static_cast<Job *>(data); });
}

// Same, but skipped when `owner` is gone by the time the loop runs it.
template <typename T> void on_main_loop(Fail fail, const std::weak_ptr<T> &owner, std::function<void(T &)> fn)
{
    on_main_loop(std::move(fail), [owner, fn = std::move(fn)] {
        if (auto self = owner.lock())
            fn(*self);
    });
}

} // namespace webrtcdirect
