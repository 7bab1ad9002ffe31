// Runs a join script on a page, on the GLib main loop. It knows nothing of
// the DevTools protocol: it is handed an Evaluate function (Runtime.evaluate
// with returnByValue and awaitPromise, in the page's main world).
#pragma once

#include "../devtools/eval_result.hpp"
#include "join_script.hpp"

#include <glib.h>

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace browsercapture {

// `done` must be called at most once, on the main loop (late calls after the
// runner is gone are ignored).
using Evaluate = std::function<void(const std::string &expression, std::function<void(const EvalResult &)> done)>;

// The JS the runner evaluates for a step (wait, wait_until, click and type are
// polled until they give true; eval and sleep run once). Exposed for tests.
std::string step_expression(const JoinStep &step);
std::string trigger_expression(const JoinTrigger &trigger);   // [leave], actions: true when done
std::string participants_expression(const JoinScript &script); // -> [count, [names...]]

// An evaluation error that means "the page navigated or is loading": retried.
bool transient_eval_error(const std::string &error);

class JoinRunner {
public:
    JoinRunner(JoinScript script, Evaluate evaluate);
    ~JoinRunner(); // removes every timer; no callback fires afterwards
    JoinRunner(const JoinRunner &) = delete;
    JoinRunner &operator=(const JoinRunner &) = delete;

    // Callbacks, all on the main loop. Set them before run().
    std::function<void(const std::string &step)> step_started;
    std::function<void()> joined; // every step done; participants polling starts
    std::function<void(const std::string &step, const std::string &reason)> failed;
    std::function<void(int count, const std::vector<std::string> &names)> participants; // when it changes
    std::function<void(const std::string &action, const std::string &error)> action_failed; // optional

    void run();
    // Leaves politely ([leave] once, bounded to 3 s), then calls `done` (always
    // later, on the main loop; once). Stops the steps and the polling.
    void leave(std::function<void()> done);
    // Runs the action bound to a DTMF key (a whole key: see DtmfKeys). False
    // with `error` set when there is none or the room is not joined yet.
    bool action(const std::string &dtmf_key, std::string &error);
    // Stops everything; no callback fires afterwards.
    void cancel();

    bool is_joined() const { return state_ == State::joined; }
    const JoinScript &script() const { return script_; }

    // Test knobs (milliseconds).
    unsigned poll_interval_ms = 200;
    unsigned participants_interval_ms = 1000;
    unsigned leave_timeout_ms = 3000;

private:
    enum class State { idle, running, joined, failed, leaving, done };
    struct Shared;

    void start_step();
    void poll_step();
    void step_answer(unsigned generation, const EvalResult &r);
    void step_timeout(unsigned generation);
    void step_done();
    void fail(const std::string &step, const std::string &reason);
    void poll_participants();
    void participants_answer(const EvalResult &r);
    void stop_timers();
    void evaluate(const std::string &expression, std::function<void(JoinRunner &, const EvalResult &)> fn);
    guint add_timer(unsigned ms, std::function<void(JoinRunner &)> fn);
    template <typename F> void guarded(F &&fn) noexcept; // an exception becomes failed()

    JoinScript script_;
    Evaluate evaluate_;
    State state_ = State::idle;
    size_t step_ = 0;
    unsigned generation_ = 0; // bumped when a step starts or everything stops: stale answers are dropped
    bool in_flight_ = false;
    std::string last_;        // the last value or error of the current step (for timeout messages)
    guint poll_timer_ = 0, step_timer_ = 0, participants_timer_ = 0, leave_timer_ = 0;
    std::optional<std::pair<int, std::vector<std::string>>> last_participants_;
    std::function<void()> leave_done_;
    std::shared_ptr<Shared> token_; // weak copies in every callback: a late one finds it gone
};

// Collects DTMF digits into the keys of [actions]: a key like "*6" matches
// when its digits arrive within `gap` of each other; a digit that continues
// no key's prefix resets the buffer (and may start a new key).
class DtmfKeys {
public:
    using Clock = std::chrono::steady_clock;
    explicit DtmfKeys(std::vector<std::string> keys, std::chrono::milliseconds gap = std::chrono::seconds(3));
    // One digit; returns the key it completes, if any.
    std::optional<std::string> push(char digit, Clock::time_point now = Clock::now());
    void reset() { buffer_.clear(); }
    const std::string &buffer() const { return buffer_; }

private:
    bool is_prefix(const std::string &s) const;
    std::vector<std::string> keys_;
    std::chrono::milliseconds gap_;
    std::string buffer_;
    Clock::time_point last_{};
};

} // namespace browsercapture
