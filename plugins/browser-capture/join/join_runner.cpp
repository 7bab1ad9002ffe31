// Runs a join script on the GLib main loop (see join_runner.hpp). One
// evaluation at a time per step: a poll is scheduled 200 ms after the
// previous answer, and a separate per-step timer bounds the step, so a page
// that never answers still fails in time. Every timer and evaluation
// callback holds a weak token: after the destructor or cancel() nothing runs.
#include "join_runner.hpp"

#include <json-glib/json-glib.h>

#include <algorithm>
#include <cmath>
#include <exception>
#include <sstream>

namespace browsercapture {

namespace {

// The selector's element, if it exists and is visible.
std::string find_visible(const std::string &selector)
{
    return "const el = document.querySelector(" + js_string(selector) +
           ");\n"
           "  const visible = !!el && (el.offsetParent !== null || el.getClientRects().length > 0);\n";
}

std::string click_expression(const std::string &selector)
{
    return "(() => {\n  " + find_visible(selector) +
           "  if (!visible || el.disabled || el.getAttribute('aria-disabled') === 'true') return false;\n"
           "  if (el.scrollIntoView) el.scrollIntoView({block: 'center', inline: 'center'});\n"
           "  if (typeof el.click === 'function') el.click();\n"
           "  else el.dispatchEvent(new MouseEvent('click', {bubbles: true, cancelable: true, view: window}));\n"
           "  return true;\n})()";
}

// The native value setter, then bubbling input and change events: React and
// Vue track an input's value through its prototype's setter and these events.
std::string type_expression(const std::string &selector, const std::string &text)
{
    return "(() => {\n  " + find_visible(selector) +
           "  if (!visible || el.disabled || el.readOnly) return false;\n"
           "  const text = " + js_string(text) +
           ";\n"
           "  el.focus();\n"
           "  if (el.isContentEditable) { el.textContent = text; }\n"
           "  else {\n"
           "    const proto = el instanceof HTMLTextAreaElement ? HTMLTextAreaElement.prototype\n"
           "                : el instanceof HTMLSelectElement ? HTMLSelectElement.prototype : HTMLInputElement.prototype;\n"
           "    const desc = Object.getOwnPropertyDescriptor(proto, 'value');\n"
           "    if (desc && desc.set && el instanceof proto.constructor) desc.set.call(el, text); else el.value = text;\n"
           "  }\n"
           "  el.dispatchEvent(new Event('input', {bubbles: true}));\n"
           "  el.dispatchEvent(new Event('change', {bubbles: true}));\n"
           "  return true;\n})()";
}

// A script (statements allowed) as a block: Runtime.evaluate runs it as a
// script and answers with its completion value, awaited when a promise; its
// declarations stay inside the block (a retry after a navigation cannot
// collide). Not eval(): a page's Content-Security-Policy without
// 'unsafe-eval' (Jitsi Meet's, for one) would refuse it, while DevTools'
// own evaluation is exempt.
std::string eval_expression(const std::string &script)
{
    return "{\n" + script + "\n}";
}

std::string trim(const std::string &s)
{
    size_t a = s.find_first_not_of(" \t\r\n"), b = s.find_last_not_of(" \t\r\n");
    return a == std::string::npos ? std::string() : s.substr(a, b - a + 1);
}

std::string seconds_text(double s)
{
    std::ostringstream o;
    o << s << " s";
    return o.str();
}

std::string shorten(const std::string &s, size_t max = 200)
{
    std::string one = s;
    std::replace(one.begin(), one.end(), '\n', ' ');
    return one.size() > max ? one.substr(0, max) + "..." : one;
}

std::string step_goal(const JoinStep &st)
{
    switch (st.kind) {
    case StepKind::wait: return "waiting for '" + st.arg + "' to exist and be visible";
    case StepKind::wait_until: return "waiting until " + shorten(st.arg);
    case StepKind::click: return "waiting for '" + st.arg + "' to be visible and enabled, to click it";
    case StepKind::type: return "waiting for '" + st.arg + "' to be visible and enabled, to type into it";
    case StepKind::eval: return "waiting for eval to finish";
    case StepKind::sleep: return "sleeping";
    }
    return "";
}

// [count, [names]] from the page, or nullopt.
std::optional<std::pair<int, std::vector<std::string>>> parse_participants(const std::string &json)
{
    JsonParser *parser = json_parser_new();
    std::optional<std::pair<int, std::vector<std::string>>> out;
    if (json_parser_load_from_data(parser, json.c_str(), static_cast<gssize>(json.size()), nullptr)) {
        JsonNode *root = json_parser_get_root(parser);
        if (root && JSON_NODE_HOLDS_ARRAY(root)) {
            JsonArray *a = json_node_get_array(root);
            if (json_array_get_length(a) == 2) {
                JsonNode *n = json_array_get_element(a, 0), *names = json_array_get_element(a, 1);
                if (JSON_NODE_HOLDS_VALUE(n) && JSON_NODE_HOLDS_ARRAY(names)) {
                    double count = json_node_get_double(n);
                    if (json_node_get_value_type(n) == G_TYPE_INT64)
                        count = static_cast<double>(json_node_get_int(n));
                    if (std::isfinite(count) && count >= 0 && count < 1e6) {
                        std::vector<std::string> list;
                        JsonArray *na = json_node_get_array(names);
                        for (guint i = 0; i < json_array_get_length(na); ++i) {
                            JsonNode *e = json_array_get_element(na, i);
                            if (JSON_NODE_HOLDS_VALUE(e) && json_node_get_value_type(e) == G_TYPE_STRING)
                                list.emplace_back(json_node_get_string(e));
                        }
                        out.emplace(static_cast<int>(count), std::move(list));
                    }
                }
            }
        }
    }
    g_object_unref(parser);
    return out;
}

} // namespace

std::string step_expression(const JoinStep &st)
{
    switch (st.kind) {
    case StepKind::wait:
        return "(() => {\n  " + find_visible(st.arg) + "  return visible;\n})()";
    case StepKind::wait_until:
        return "Promise.resolve((\n" + st.arg + "\n)).then(v => !!v)";
    case StepKind::click:
        return click_expression(st.arg);
    case StepKind::type:
        return type_expression(st.arg, st.text);
    case StepKind::eval:
        return eval_expression(st.arg);
    case StepKind::sleep:
        return "";
    }
    return "";
}

std::string trigger_expression(const JoinTrigger &t)
{
    return t.click ? click_expression(t.arg) : eval_expression(t.arg);
}

std::string participants_expression(const JoinScript &s)
{
    std::string names = s.participants_names.empty() ? "[]" : "await (\n" + s.participants_names + "\n)";
    return "(async () => {\n  const n = Number(await (\n" + s.participants_count + "\n));\n  const names = " + names +
           ";\n  return [Number.isFinite(n) ? n : -1, Array.from(names || [], x => String(x))];\n})()";
}

bool transient_eval_error(const std::string &e)
{
    for (const char *s : {"Execution context was destroyed", "Cannot find context", "Cannot find default execution context",
                          "Inspected target navigated or closed", "Execution context is not available"})
        if (e.find(s) != std::string::npos)
            return true;
    return false;
}

// ---------------------------------------------------------------------------

struct JoinRunner::Shared {
    JoinRunner *self;
};

JoinRunner::JoinRunner(JoinScript script, Evaluate evaluate)
    : script_(std::move(script)), evaluate_(std::move(evaluate)), token_(std::make_shared<Shared>(Shared{this}))
{
}

JoinRunner::~JoinRunner()
{
    stop_timers();
    token_.reset();
}

template <typename F> void JoinRunner::guarded(F &&fn) noexcept
{
    std::string what;
    try {
        fn();
        return;
    } catch (const std::exception &e) {
        what = e.what();
    } catch (...) {
        what = "unknown exception";
    }
    try {
        std::string where = step_ < script_.steps.size() ? script_.steps[step_].name : "participants";
        fail(where, "internal error: " + what);
    } catch (...) {
        g_critical("browser-capture join: exception while reporting a failure (%s)", what.c_str());
    }
}

guint JoinRunner::add_timer(unsigned ms, std::function<void(JoinRunner &)> fn)
{
    struct Timer {
        std::weak_ptr<Shared> token;
        std::function<void(JoinRunner &)> fn;
    };
    return g_timeout_add_full(
        G_PRIORITY_DEFAULT, ms,
        [](gpointer data) -> gboolean {
            auto *t = static_cast<Timer *>(data);
            if (auto s = t->token.lock()) {
                JoinRunner &r = *s->self;
                r.guarded([&] { t->fn(r); });
            }
            return G_SOURCE_REMOVE;
        },
        new Timer{token_, std::move(fn)}, [](gpointer data) { delete static_cast<Timer *>(data); });
}

void JoinRunner::evaluate(const std::string &expression, std::function<void(JoinRunner &, const EvalResult &)> fn)
{
    std::weak_ptr<Shared> weak = token_;
    auto answered = std::make_shared<bool>(false);
    auto done = [weak, fn = std::move(fn), answered](const EvalResult &r) {
        if (*answered) // called twice: ignore the second
            return;
        *answered = true;
        if (auto s = weak.lock()) {
            JoinRunner &self = *s->self;
            self.guarded([&] { fn(self, r); });
        }
    };
    evaluate_(expression, std::move(done));
}

void JoinRunner::stop_timers()
{
    for (guint *t : {&poll_timer_, &step_timer_, &participants_timer_, &leave_timer_})
        if (*t) {
            g_source_remove(*t);
            *t = 0;
        }
}

void JoinRunner::run()
{
    if (state_ != State::idle)
        return;
    state_ = State::running;
    step_ = 0;
    guarded([&] { start_step(); });
}

void JoinRunner::start_step()
{
    ++generation_;
    in_flight_ = false;
    last_.clear();
    if (step_ >= script_.steps.size()) {
        state_ = State::joined;
        if (joined)
            joined();
        if (state_ == State::joined && !script_.participants_count.empty())
            poll_participants();
        return;
    }
    const JoinStep &st = script_.steps[step_];
    if (step_started)
        step_started(st.name);
    if (state_ != State::running) // a callback cancelled us
        return;
    auto ms = [](double s) { return static_cast<unsigned>(std::min(s * 1000.0, 86400e3)); };
    if (st.kind == StepKind::sleep) {
        step_timer_ = add_timer(ms(st.seconds), [](JoinRunner &r) {
            r.step_timer_ = 0;
            r.step_done();
        });
        return;
    }
    unsigned gen = generation_;
    step_timer_ = add_timer(ms(st.timeout), [gen](JoinRunner &r) {
        r.step_timer_ = 0;
        r.step_timeout(gen);
    });
    poll_step();
}

void JoinRunner::poll_step()
{
    if (state_ != State::running || step_ >= script_.steps.size())
        return;
    in_flight_ = true;
    unsigned gen = generation_;
    evaluate(step_expression(script_.steps[step_]), [gen](JoinRunner &r, const EvalResult &res) {
        r.step_answer(gen, res);
    });
}

void JoinRunner::step_answer(unsigned gen, const EvalResult &r)
{
    if (gen != generation_ || state_ != State::running)
        return;
    in_flight_ = false;
    const JoinStep &st = script_.steps[step_];
    if (r.ok) {
        if (st.kind == StepKind::eval || trim(r.json) == "true") {
            step_done();
            return;
        }
        last_ = "last value: " + shorten(trim(r.json), 80);
    } else {
        if (st.kind == StepKind::eval && !transient_eval_error(r.error)) {
            fail(st.name, "eval threw: " + shorten(r.error, 400));
            return;
        }
        last_ = "last error: " + shorten(r.error, 400);
    }
    // Polled steps (and an eval interrupted by a navigation) try again.
    poll_timer_ = add_timer(poll_interval_ms, [gen](JoinRunner &self) {
        self.poll_timer_ = 0;
        if (gen == self.generation_)
            self.poll_step();
    });
}

void JoinRunner::step_timeout(unsigned gen)
{
    if (gen != generation_ || state_ != State::running)
        return;
    const JoinStep &st = script_.steps[step_];
    std::string reason = "timed out after " + seconds_text(st.timeout) + " " + step_goal(st);
    if (in_flight_ && last_.empty())
        reason += " (the page did not answer)";
    else if (!last_.empty())
        reason += " (" + last_ + ")";
    fail(st.name, reason);
}

void JoinRunner::step_done()
{
    if (state_ != State::running)
        return;
    for (guint *t : {&poll_timer_, &step_timer_})
        if (*t) {
            g_source_remove(*t);
            *t = 0;
        }
    ++step_;
    start_step();
}

void JoinRunner::fail(const std::string &step, const std::string &reason)
{
    if (state_ == State::failed || state_ == State::done || state_ == State::leaving)
        return;
    state_ = State::failed;
    ++generation_;
    stop_timers();
    if (failed) {
        try {
            failed(step, reason);
        } catch (const std::exception &e) {
            g_critical("browser-capture join: the failed() callback threw: %s", e.what());
        } catch (...) {
            g_critical("browser-capture join: the failed() callback threw");
        }
    }
}

void JoinRunner::poll_participants()
{
    if (state_ != State::joined)
        return;
    participants_timer_ = add_timer(participants_interval_ms, [](JoinRunner &r) {
        r.participants_timer_ = 0;
        r.poll_participants();
    });
    if (in_flight_) // the previous poll has not answered: skip this one
        return;
    in_flight_ = true;
    unsigned gen = generation_;
    evaluate(participants_expression(script_), [gen](JoinRunner &r, const EvalResult &res) {
        if (gen != r.generation_ || r.state_ != State::joined)
            return;
        r.in_flight_ = false;
        r.participants_answer(res);
    });
}

void JoinRunner::participants_answer(const EvalResult &r)
{
    if (!r.ok)
        return; // a navigation or the page's own state: the next poll tells
    auto p = parse_participants(r.json);
    if (!p || p->first < 0)
        return;
    if (last_participants_ && *last_participants_ == *p)
        return;
    last_participants_ = p;
    if (participants)
        participants(p->first, p->second);
}

void JoinRunner::leave(std::function<void()> done)
{
    if (state_ == State::leaving || state_ == State::done) {
        // Already leaving or finished: still answer, later.
        if (done)
            add_timer(0, [done](JoinRunner &) { done(); });
        return;
    }
    bool started = state_ != State::idle;
    state_ = State::leaving;
    ++generation_;
    in_flight_ = false;
    stop_timers();
    leave_done_ = std::move(done);
    auto finish = [](JoinRunner &r) {
        if (r.leave_timer_) {
            g_source_remove(r.leave_timer_);
            r.leave_timer_ = 0;
        }
        if (r.state_ != State::leaving)
            return;
        r.state_ = State::done;
        if (auto d = std::move(r.leave_done_)) {
            r.leave_done_ = nullptr;
            d();
        }
    };
    if (!script_.leave || !started) {
        leave_timer_ = add_timer(0, [finish](JoinRunner &r) {
            r.leave_timer_ = 0;
            finish(r);
        });
        return;
    }
    leave_timer_ = add_timer(leave_timeout_ms, [finish](JoinRunner &r) {
        r.leave_timer_ = 0;
        finish(r);
    });
    unsigned gen = generation_;
    try {
        evaluate(trigger_expression(*script_.leave), [gen, finish](JoinRunner &r, const EvalResult &) {
            if (gen == r.generation_)
                finish(r);
        });
    } catch (const std::exception &e) {
        g_warning("browser-capture join: leaving: %s", e.what()); // the timer still finishes
    }
}

bool JoinRunner::action(const std::string &key, std::string &error)
{
    const JoinAction *a = script_.action(key);
    if (!a) {
        std::string keys;
        for (const auto &x : script_.actions)
            keys += (keys.empty() ? "" : ", ") + x.key + " (" + x.name + ")";
        error = "no action for DTMF key '" + key + "' in " + script_.path +
                (keys.empty() ? std::string(" (it has none)") : " (it has " + keys + ")");
        return false;
    }
    if (state_ != State::joined) {
        error = "action '" + a->name + "': not in the room yet";
        return false;
    }
    std::string name = a->name, what = a->trigger.click ? "no visible, enabled '" + a->trigger.arg + "' to click" : "";
    unsigned gen = generation_;
    try {
        evaluate(trigger_expression(a->trigger), [gen, name, what](JoinRunner &r, const EvalResult &res) {
            if (gen != r.generation_ || !r.action_failed)
                return;
            if (!res.ok)
                r.action_failed(name, "threw: " + shorten(res.error, 400));
            else if (trim(res.json) != "true")
                r.action_failed(name, what);
        });
    } catch (const std::exception &e) {
        error = "action '" + name + "': " + e.what();
        return false;
    }
    return true;
}

void JoinRunner::cancel()
{
    state_ = State::done;
    ++generation_;
    stop_timers();
    leave_done_ = nullptr;
}

// ---------------------------------------------------------------------------

DtmfKeys::DtmfKeys(std::vector<std::string> keys, std::chrono::milliseconds gap) : keys_(std::move(keys)), gap_(gap) {}

bool DtmfKeys::is_prefix(const std::string &s) const
{
    return std::any_of(keys_.begin(), keys_.end(), [&](const std::string &k) { return k.compare(0, s.size(), s) == 0; });
}

std::optional<std::string> DtmfKeys::push(char digit, Clock::time_point now)
{
    if (digit >= 'a' && digit <= 'd')
        digit = static_cast<char>(digit - 'a' + 'A');
    if (!buffer_.empty() && now - last_ > gap_)
        buffer_.clear();
    last_ = now;
    for (int attempt = 0; attempt < 2; ++attempt) {
        buffer_ += digit;
        if (std::find(keys_.begin(), keys_.end(), buffer_) != keys_.end()) {
            std::string key = std::move(buffer_);
            buffer_.clear();
            return key;
        }
        if (is_prefix(buffer_))
            return std::nullopt;
        // No key goes on like this: start again from this digit alone.
        bool alone = buffer_.size() == 1;
        buffer_.clear();
        if (alone)
            break;
    }
    return std::nullopt;
}

} // namespace browsercapture
