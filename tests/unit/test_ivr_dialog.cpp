// The IVR's conversation (plugins/ivr/dialog/ivr_dialog.cpp) without a
// pipeline: digits, prompt ends, directory answers and time fed by hand.
#include "dialog/ivr_dialog.hpp"

#include <doctest/doctest.h>

using namespace ivr;
using Kind = Action::Kind;

namespace {

DialogSettings settings(PinPolicy pin = PinPolicy::Directory)
{
    DialogSettings s;
    s.digit_timeout_ms = 5000;
    s.overall_timeout_ms = 60000;
    s.max_tries = 3;
    s.max_digits = 8;
    s.pin = pin;
    return s;
}

roomdir::Result room(const std::string &id, const std::string &pin = "")
{
    roomdir::Room r;
    r.room = id;
    r.pin = pin;
    r.service = "janus";
    return roomdir::Result::found(r, "test");
}

// Types `keys`, one per 300 ms from `t`; returns the time after the last.
int64_t type(Dialog &d, const std::string &keys, int64_t t)
{
    for (char k : keys)
        d.digit(k, t += 300);
    return t;
}

std::vector<Kind> kinds(const std::vector<Action> &actions)
{
    std::vector<Kind> out;
    for (const auto &a : actions)
        out.push_back(a.kind);
    return out;
}

} // namespace

TEST_CASE("room then PIN, typed over the prompts")
{
    Dialog d(settings());
    d.start(0);
    auto a = d.take_actions();
    REQUIRE(a.size() == 1);
    CHECK(a[0].kind == Kind::Play);
    CHECK(a[0].prompts == std::vector<Prompt>{Prompt::Welcome, Prompt::EnterRoom});
    d.digit('1', 1000); // over the prompt: it stops
    a = d.take_actions();
    CHECK(kinds(a) == std::vector<Kind>{Kind::Stop});
    type(d, "234#", 1000);
    a = d.take_actions();
    REQUIRE(kinds(a) == std::vector<Kind>{Kind::Lookup});
    CHECK(a[0].key == "1234");
    CHECK(d.state() == Dialog::State::LookingUp);
    d.digit('9', 2500); // typed while looking up: dropped
    d.lookup_done(room("1234", "0042"), 3000);
    a = d.take_actions();
    REQUIRE(kinds(a) == std::vector<Kind>{Kind::Play});
    CHECK(a[0].prompts == std::vector<Prompt>{Prompt::EnterPin});
    d.prompts_finished(5000);
    type(d, "0042#", 5000);
    a = d.take_actions();
    REQUIRE(kinds(a) == std::vector<Kind>{Kind::Play, Kind::Done});
    CHECK(a[0].prompts == std::vector<Prompt>{Prompt::Connecting});
    CHECK(a[1].room.room == "1234");
    CHECK(a[1].room.pin == "0042");
    CHECK(a[1].digits == "1234");
    CHECK(d.state() == Dialog::State::Done);
    CHECK(d.next_deadline() == -1);
}

TEST_CASE("a room without a PIN is done at once; pin policies")
{
    Dialog d(settings());
    d.start(0);
    type(d, "77#", 100);
    d.take_actions();
    d.lookup_done(room("77"), 1000);
    CHECK(kinds(d.take_actions()) == std::vector<Kind>{Kind::Play, Kind::Done});

    Dialog always(settings(PinPolicy::Always)); // no PIN in the directory: the caller's goes on
    always.start(0);
    type(always, "77#", 100);
    always.take_actions();
    always.lookup_done(room("77"), 1000);
    CHECK(always.state() == Dialog::State::Pin);
    always.take_actions();
    type(always, "5555#", 1000);
    auto a = always.take_actions();
    REQUIRE(kinds(a).back() == Kind::Done);
    CHECK(a.back().room.pin == "5555");

    Dialog never(settings(PinPolicy::Never));
    never.start(0);
    type(never, "1#", 100);
    never.take_actions();
    never.lookup_done(room("1", "9999"), 1000);
    CHECK(kinds(never.take_actions()) == std::vector<Kind>{Kind::Play, Kind::Done});
}

TEST_CASE("a wrong PIN asks again, then says goodbye and fails")
{
    Dialog d(settings());
    d.start(0);
    type(d, "1234#", 0);
    d.take_actions();
    d.lookup_done(room("1234", "4321"), 1000);
    d.take_actions();
    d.prompts_finished(1500);
    int64_t t = 1500;
    for (int i = 1; i <= 2; ++i) {
        t = type(d, "1111#", t);
        auto a = d.take_actions();
        REQUIRE(kinds(a) == std::vector<Kind>{Kind::Play});
        CHECK(a[0].prompts == std::vector<Prompt>{Prompt::WrongPin, Prompt::EnterPin});
        CHECK(d.tries() == i);
        d.prompts_finished(t += 2000);
    }
    t = type(d, "432#", t); // one digit short: wrong too
    auto a = d.take_actions();
    REQUIRE(kinds(a) == std::vector<Kind>{Kind::Play});
    CHECK(a[0].prompts == std::vector<Prompt>{Prompt::WrongPin, Prompt::Goodbye});
    CHECK(d.state() == Dialog::State::Goodbye);
    d.digit('4', t + 10); // no more digits taken
    CHECK(d.take_actions().empty());
    d.prompts_finished(t + 3000);
    a = d.take_actions();
    REQUIRE(kinds(a) == std::vector<Kind>{Kind::Failed});
    CHECK(a[0].reason == "wrong PIN (3 tries)");
}

TEST_CASE("no such room asks again; '*' starts the entry over; max_digits submits")
{
    Dialog d(settings());
    d.start(0);
    d.take_actions();
    type(d, "12*", 0);
    auto a = d.take_actions();
    REQUIRE(kinds(a) == std::vector<Kind>{Kind::Stop, Kind::Play}); // typed over the welcome
    CHECK(a[1].prompts == std::vector<Prompt>{Prompt::EnterRoom});
    CHECK(d.entry().empty());
    CHECK(d.tries() == 0);
    type(d, "12345678", 100); // 8 = max_digits: no '#' needed
    a = d.take_actions();
    REQUIRE(kinds(a).back() == Kind::Lookup);
    CHECK(a.back().key == "12345678");
    d.lookup_done(roomdir::Result::not_found("no such room"), 4000);
    a = d.take_actions();
    REQUIRE(kinds(a) == std::vector<Kind>{Kind::Play});
    CHECK(a[0].prompts == std::vector<Prompt>{Prompt::NoSuchRoom, Prompt::EnterRoom});
    CHECK(d.state() == Dialog::State::Room);
    CHECK(d.tries() == 1);
}

TEST_CASE("silence: the digit timer runs from the end of the prompt; tries run out")
{
    Dialog d(settings());
    d.start(0);
    d.take_actions();
    CHECK(d.next_deadline() == 60000); // a prompt plays: only the overall timer
    d.prompts_finished(4000);
    CHECK(d.next_deadline() == 9000);
    d.tick(8999);
    CHECK(d.take_actions().empty());
    int64_t t = 9000;
    for (int i = 1; i <= 2; ++i) {
        d.tick(t);
        auto a = d.take_actions();
        REQUIRE(kinds(a) == std::vector<Kind>{Kind::Play});
        CHECK(a[0].prompts == std::vector<Prompt>{Prompt::NoInput, Prompt::EnterRoom});
        d.prompts_finished(t += 3000);
        t += 5000;
    }
    d.tick(t);
    auto a = d.take_actions();
    REQUIRE(kinds(a) == std::vector<Kind>{Kind::Play});
    CHECK(a[0].prompts == std::vector<Prompt>{Prompt::NoInput, Prompt::Goodbye});
    // The goodbye's end is never reported: failed all the same, later.
    CHECK(d.next_deadline() == t + 15000);
    d.tick(t + 15000);
    a = d.take_actions();
    REQUIRE(kinds(a) == std::vector<Kind>{Kind::Failed});
    CHECK(a[0].reason == "no digits (3 tries)");
}

TEST_CASE("digits then a pause submit; '#' alone is no input")
{
    Dialog d(settings());
    d.start(0);
    d.prompts_finished(1000);
    d.take_actions();
    d.digit('4', 2000);
    d.digit('2', 2500);
    CHECK(d.next_deadline() == 7500); // from the last digit
    d.tick(7500);
    auto a = d.take_actions();
    REQUIRE(kinds(a) == std::vector<Kind>{Kind::Lookup});
    CHECK(a[0].key == "42");

    Dialog e(settings());
    e.start(0);
    e.take_actions();
    e.digit('#', 100);
    a = e.take_actions();
    REQUIRE(kinds(a) == std::vector<Kind>{Kind::Stop, Kind::Play});
    CHECK(a[1].prompts == std::vector<Prompt>{Prompt::NoInput, Prompt::EnterRoom});
    e.digit('x', 200); // not a key: ignored
    CHECK(e.entry().empty());
}

TEST_CASE("the overall timeout and a failing directory end the dialog")
{
    DialogSettings s = settings();
    s.overall_timeout_ms = 20000;
    Dialog d(s);
    d.start(0);
    type(d, "1#", 0);
    d.take_actions();
    CHECK(d.next_deadline() == 20000); // looking up: only the overall timer
    d.tick(20000);
    auto a = d.take_actions();
    REQUIRE(kinds(a) == std::vector<Kind>{Kind::Play});
    CHECK(a[0].prompts == std::vector<Prompt>{Prompt::Goodbye});
    d.lookup_done(room("1"), 20001); // too late: ignored
    d.prompts_finished(22000);
    a = d.take_actions();
    REQUIRE(kinds(a) == std::vector<Kind>{Kind::Failed});
    CHECK(a[0].reason == "timeout: no room chosen within 20 s");

    Dialog e(settings());
    e.start(0);
    type(e, "1#", 0);
    e.take_actions();
    e.lookup_done(roomdir::Result::error("http://dir/rooms: HTTP 500"), 500);
    a = e.take_actions();
    REQUIRE(kinds(a) == std::vector<Kind>{Kind::Play});
    CHECK(a[0].prompts == std::vector<Prompt>{Prompt::Unavailable, Prompt::Goodbye});
    e.prompts_finished(3000);
    a = e.take_actions();
    REQUIRE(kinds(a) == std::vector<Kind>{Kind::Failed});
    CHECK(a[0].reason == "room directory unavailable"); // no URL or status for the caller
}

TEST_CASE("start again: a new call begins afresh")
{
    Dialog d(settings());
    d.start(0);
    type(d, "1#", 0);
    d.take_actions();
    d.start(100000);
    CHECK(d.state() == Dialog::State::Room);
    CHECK(d.tries() == 0);
    CHECK(d.next_deadline() == 160000);
}
