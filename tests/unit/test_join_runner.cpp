// The join runner (plugins/browser-capture/join/join_runner.cpp) driven by a
// scripted page: an Evaluate that answers from a table on the main loop.
// Sequencing, polling, timeouts, navigation retries, participants, leave,
// actions, and no callback after destruction. (The real pages are tested by
// the plugin's integration tests and tests/lib/rooms.py.)
#include "../../plugins/browser-capture/join/join_runner.hpp"

#include <doctest/doctest.h>

#include <glib.h>

#include <functional>
#include <map>
#include <optional>
#include <memory>
#include <string>
#include <vector>

using namespace browsercapture;

namespace {

// A page: `answer(expression, call number of that expression)` gives the
// result, or nullopt for "never answers". Answers come from an idle source.
struct FakePage {
    std::function<std::optional<EvalResult>(const std::string &, int)> answer;
    std::vector<std::string> seen;
    std::map<std::string, int> calls;
    bool late = false; // answer after 50 ms instead of at once

    Evaluate evaluate()
    {
        return [this](const std::string &expr, std::function<void(const EvalResult &)> done) {
            seen.push_back(expr);
            auto r = answer(expr, ++calls[expr]);
            if (!r)
                return;
            struct Job {
                EvalResult r;
                std::function<void(const EvalResult &)> done;
            };
            g_timeout_add_full(
                G_PRIORITY_DEFAULT, late ? 50 : 0,
                [](gpointer d) -> gboolean {
                    auto *j = static_cast<Job *>(d);
                    j->done(j->r);
                    return G_SOURCE_REMOVE;
                },
                new Job{*r, std::move(done)}, [](gpointer d) { delete static_cast<Job *>(d); });
        };
    }
};

EvalResult value(const std::string &json) { return {true, "", json}; }
EvalResult error(const std::string &e) { return {false, e, ""}; }

// Runs the main loop until `until()` or `ms` pass.
void spin(std::function<bool()> until, unsigned ms = 3000)
{
    gint64 end = g_get_monotonic_time() + ms * 1000;
    while (!until() && g_get_monotonic_time() < end)
        g_main_context_iteration(nullptr, FALSE) || (g_usleep(1000), true);
}

JoinScript script(const std::string &steps, const std::string &rest = "")
{
    return parse_join_script_text("[service]\nname = \"t\"\n" + steps + rest, "t.toml",
                                  {{"display_name", "Ann"}});
}

bool has(const std::string &s, const std::string &part) { return s.find(part) != std::string::npos; }

struct Recorder {
    std::vector<std::string> started;
    bool joined = false;
    std::string failed_step, reason;
    std::vector<std::pair<int, std::vector<std::string>>> participants;

    void attach(JoinRunner &r)
    {
        r.step_started = [this](const std::string &s) { started.push_back(s); };
        r.joined = [this] { joined = true; };
        r.failed = [this](const std::string &s, const std::string &why) {
            failed_step = s;
            reason = why;
        };
        r.participants = [this](int n, const std::vector<std::string> &names) { participants.push_back({n, names}); };
    }
    bool over() const { return joined || !failed_step.empty(); }
};

const std::string steps = R"TOML(
[[step]]
name = "open"
wait = "#start"
[[step]]
name = "start"
click = "#start"
[[step]]
name = "name"
type = { into = "#name", text = "${display_name}" }
[[step]]
name = "pause"
sleep = 0.05
[[step]]
name = "hello"
eval = "hello()"
)TOML";

} // namespace

TEST_CASE("join runner: steps in order, waits polled until true")
{
    FakePage page;
    auto s = script(steps);
    std::string wait = step_expression(s.steps[0]);
    page.answer = [&](const std::string &e, int n) -> std::optional<EvalResult> {
        if (e == wait)
            return value(n < 3 ? "false" : "true"); // visible at the third poll
        return value("true");
    };
    JoinRunner r(s, page.evaluate());
    r.poll_interval_ms = 10;
    Recorder rec;
    rec.attach(r);
    r.run();
    spin([&] { return rec.over(); });
    CHECK(rec.joined);
    CHECK(rec.failed_step.empty());
    CHECK(rec.started == std::vector<std::string>{"open", "start", "name", "pause", "hello"});
    CHECK(page.calls[wait] == 3);
    CHECK(page.seen.size() == 6); // 3 waits, click, type, eval (sleep evaluates nothing)
    CHECK(r.is_joined());
    CHECK(has(page.seen[4], "const text = \"Ann\";"));
    CHECK(page.seen[5] == "{\nhello()\n}");
}

TEST_CASE("join runner: a wait that never comes times out naming the step and what it waited for")
{
    FakePage page;
    page.answer = [](const std::string &, int) { return value("false"); };
    JoinRunner r(script("[[step]]\nname = \"open\"\nwait = \"#start\"\ntimeout = 0.3\n"), page.evaluate());
    r.poll_interval_ms = 20;
    Recorder rec;
    rec.attach(r);
    gint64 t0 = g_get_monotonic_time();
    r.run();
    spin([&] { return rec.over(); });
    double took = (g_get_monotonic_time() - t0) / 1e6;
    CHECK(rec.failed_step == "open");
    CHECK(rec.reason == "timed out after 0.3 s waiting for '#start' to exist and be visible (last value: false)");
    CHECK(took >= 0.29);
    CHECK(took < 1.0);
    CHECK(page.calls.begin()->second >= 5);
}

TEST_CASE("join runner: a page that never answers still times out")
{
    FakePage page;
    page.answer = [](const std::string &, int) { return std::nullopt; };
    JoinRunner r(script("[[step]]\nname = \"ready\"\nwait_until = \"window.ready\"\ntimeout = 0.2\n"), page.evaluate());
    Recorder rec;
    rec.attach(r);
    r.run();
    spin([&] { return rec.over(); });
    CHECK(rec.failed_step == "ready");
    CHECK(rec.reason == "timed out after 0.2 s waiting until window.ready (the page did not answer)");
    CHECK(page.seen.size() == 1);
}

TEST_CASE("join runner: navigation errors are retried; an eval's own exception fails at once")
{
    SUBCASE("navigation during eval and waits")
    {
        FakePage page;
        page.answer = [](const std::string &e, int n) -> std::optional<EvalResult> {
            if (n == 1)
                return error("Execution context was destroyed.");
            if (n == 2)
                return error("Cannot find context with specified id");
            return value(has(e, "window.ready") ? "true" : "true");
        };
        JoinRunner r(script("[[step]]\nname = \"go\"\neval = \"location.href = '/next'\"\n"
                            "[[step]]\nname = \"ready\"\nwait_until = \"window.ready\"\n"),
                     page.evaluate());
        r.poll_interval_ms = 10;
        Recorder rec;
        rec.attach(r);
        r.run();
        spin([&] { return rec.over(); });
        CHECK(rec.joined);
        CHECK(page.seen.size() == 6);
    }
    SUBCASE("a JS exception in eval")
    {
        FakePage page;
        page.answer = [](const std::string &, int) { return error("ReferenceError: APP is not defined"); };
        JoinRunner r(script("[[step]]\nname = \"mute\"\neval = \"APP.mute()\"\n"), page.evaluate());
        Recorder rec;
        rec.attach(r);
        r.run();
        spin([&] { return rec.over(); });
        CHECK(rec.failed_step == "mute");
        CHECK(rec.reason == "eval threw: ReferenceError: APP is not defined");
        CHECK(page.seen.size() == 1);
    }
    SUBCASE("a JS exception in a wait is polled again; the timeout reports it")
    {
        FakePage page;
        page.answer = [](const std::string &, int) { return error("TypeError: room is undefined"); };
        JoinRunner r(script("[[step]]\nname = \"in\"\nwait_until = \"room.joined\"\ntimeout = 0.2\n"), page.evaluate());
        r.poll_interval_ms = 10;
        Recorder rec;
        rec.attach(r);
        r.run();
        spin([&] { return rec.over(); });
        CHECK(rec.failed_step == "in");
        CHECK(rec.reason == "timed out after 0.2 s waiting until room.joined (last error: TypeError: room is undefined)");
        CHECK(page.seen.size() > 3);
    }
}

TEST_CASE("join runner: participants after joined, only when they change")
{
    FakePage page;
    auto s = script("[[step]]\nname = \"a\"\nwait = \"#x\"\n",
                    "[participants]\ncount = \"remotes().length\"\nnames = \"remotes().map(r => r.name)\"\n");
    std::string pexpr = participants_expression(s);
    CHECK(has(pexpr, "remotes().length"));
    page.answer = [&](const std::string &e, int n) -> std::optional<EvalResult> {
        if (e != pexpr)
            return value("true");
        switch (n) {
        case 1: case 2: return value("[0,[]]");
        case 3: return error("Execution context was destroyed.");
        case 4: return value("[1,[\"Bob\"]]");
        case 5: return value("[1,[\"Bob\"]]");
        default: return value("[2,[\"Bob\",\"Eve\"]]");
        }
    };
    JoinRunner r(s, page.evaluate());
    r.participants_interval_ms = 10;
    Recorder rec;
    rec.attach(r);
    r.run();
    spin([&] { return rec.participants.size() >= 3; });
    REQUIRE(rec.participants.size() >= 3);
    CHECK(rec.participants[0] == std::pair<int, std::vector<std::string>>{0, {}});
    CHECK(rec.participants[1] == std::pair<int, std::vector<std::string>>{1, {"Bob"}});
    CHECK(rec.participants[2] == std::pair<int, std::vector<std::string>>{2, {"Bob", "Eve"}});
    CHECK(page.calls[pexpr] >= 6);
}

TEST_CASE("join runner: leave runs [leave] once and is bounded")
{
    auto s = script("[[step]]\nname = \"a\"\nwait = \"#x\"\n", "[leave]\nclick = \"#hangup\"\n");
    SUBCASE("answered")
    {
        FakePage page;
        page.answer = [](const std::string &, int) { return value("true"); };
        JoinRunner r(s, page.evaluate());
        Recorder rec;
        rec.attach(r);
        r.run();
        spin([&] { return rec.over(); });
        bool left = false;
        r.leave([&] { left = true; });
        CHECK_FALSE(left); // always later
        spin([&] { return left; });
        CHECK(left);
        CHECK(has(page.seen.back(), "document.querySelector(\"#hangup\")"));
    }
    SUBCASE("the page never answers: done after the bound")
    {
        FakePage page;
        page.answer = [](const std::string &e, int) -> std::optional<EvalResult> {
            if (has(e, "#hangup"))
                return std::nullopt;
            return value("true");
        };
        JoinRunner r(s, page.evaluate());
        r.leave_timeout_ms = 100;
        Recorder rec;
        rec.attach(r);
        r.run();
        spin([&] { return rec.over(); });
        int left = 0;
        gint64 t0 = g_get_monotonic_time();
        r.leave([&] { ++left; });
        spin([&] { return left > 0; });
        CHECK(left == 1);
        CHECK((g_get_monotonic_time() - t0) / 1000 >= 95);
        spin([] { return false; }, 150);
        CHECK(left == 1);
    }
    SUBCASE("leaving while a step waits stops it")
    {
        FakePage page;
        page.answer = [](const std::string &, int) { return value("false"); };
        JoinRunner r(s, page.evaluate());
        r.poll_interval_ms = 10;
        Recorder rec;
        rec.attach(r);
        r.run();
        spin([] { return false; }, 50);
        bool left = false;
        r.leave([&] { left = true; });
        spin([&] { return left; });
        size_t n = page.seen.size();
        spin([] { return false; }, 100);
        CHECK(page.seen.size() == n);
        CHECK(rec.failed_step.empty());
    }
}

TEST_CASE("join runner: DTMF actions")
{
    auto s = script("[[step]]\nname = \"a\"\nwait_until = \"ready\"\n",
                    "[actions]\n\"*6\" = { name = \"mute\", eval = \"toggleMute()\" }\n"
                    "\"#\" = { name = \"hand\", click = \"#hand\" }\n");
    FakePage page;
    bool ready = false;
    page.answer = [&](const std::string &e, int) -> std::optional<EvalResult> {
        if (has(e, "#hand"))
            return value("false"); // not on the page
        return value(ready || !has(e, "ready") ? "true" : "false");
    };
    JoinRunner r(s, page.evaluate());
    r.poll_interval_ms = 10;
    std::vector<std::pair<std::string, std::string>> action_errors;
    r.action_failed = [&](const std::string &a, const std::string &e) { action_errors.push_back({a, e}); };
    Recorder rec;
    rec.attach(r);
    r.run();
    std::string err;
    CHECK_FALSE(r.action("*6", err));
    CHECK(err == "action 'mute': not in the room yet");
    ready = true;
    spin([&] { return rec.over(); });
    CHECK(r.action("*6", err));
    CHECK(has(page.seen.back(), "toggleMute()"));
    CHECK_FALSE(r.action("*7", err));
    CHECK(err == "no action for DTMF key '*7' in t.toml (it has *6 (mute), # (hand))");
    CHECK(r.action("#", err));
    spin([&] { return !action_errors.empty(); });
    REQUIRE(action_errors.size() == 1);
    CHECK(action_errors[0] == std::pair<std::string, std::string>{"hand", "no visible, enabled '#hand' to click"});
}

TEST_CASE("join runner: nothing fires after destruction or cancel()")
{
    SUBCASE("destroyed with an evaluation pending and its answer coming later")
    {
        FakePage page;
        page.late = true;
        page.answer = [](const std::string &, int) { return value("true"); };
        Recorder rec;
        {
            JoinRunner r(script(steps), page.evaluate());
            rec.attach(r);
            r.run();
        } // answer still queued, timers removed
        spin([] { return false; }, 150);
        CHECK(rec.started == std::vector<std::string>{"open"});
        CHECK_FALSE(rec.over());
    }
    SUBCASE("cancelled")
    {
        FakePage page;
        page.late = true;
        page.answer = [](const std::string &, int) { return value("false"); };
        JoinRunner r(script("[[step]]\nname = \"a\"\nwait = \"#x\"\ntimeout = 0.1\n"), page.evaluate());
        Recorder rec;
        rec.attach(r);
        r.run();
        r.cancel();
        spin([] { return false; }, 250);
        CHECK_FALSE(rec.over());
        CHECK(page.seen.size() == 1);
    }
    SUBCASE("a callback that throws becomes failed()")
    {
        FakePage page;
        page.answer = [](const std::string &, int) { return value("true"); };
        JoinRunner r(script(steps), page.evaluate());
        Recorder rec;
        rec.attach(r);
        r.step_started = [](const std::string &s) {
            if (s == "name")
                throw std::runtime_error("boom");
        };
        r.run();
        spin([&] { return rec.over(); });
        CHECK(rec.failed_step == "name");
        CHECK(rec.reason == "internal error: boom");
    }
}

TEST_CASE("join runner: the step expressions")
{
    auto s = script(steps);
    CHECK(has(step_expression(s.steps[0]), "el.offsetParent !== null || el.getClientRects().length > 0"));
    CHECK(has(step_expression(s.steps[1]), "el.click()"));
    auto type = step_expression(s.steps[2]);
    CHECK(has(type, "Object.getOwnPropertyDescriptor(proto, 'value')"));
    CHECK(has(type, "new Event('input', {bubbles: true})"));
    CHECK(has(type, "new Event('change', {bubbles: true})"));
    CHECK(step_expression(s.steps[3]).empty());
    CHECK(transient_eval_error("Execution context was destroyed."));
    CHECK(transient_eval_error("Cannot find context with specified id"));
    CHECK_FALSE(transient_eval_error("TypeError: x is undefined"));
}
