#include "dialog/ivr_dialog.hpp"

#include <algorithm>

namespace ivr {
namespace {

constexpr int64_t kGoodbyeCapMs = 15000; // the goodbye's end never reported: fail anyway

// Compares without an early exit: the time taken says nothing of how much matched.
bool same_secret(const std::string &a, const std::string &b)
{
    unsigned char diff = a.size() == b.size() ? 0 : 1;
    const size_t n = std::max(a.size(), b.size());
    for (size_t i = 0; i < n; ++i)
        diff |= static_cast<unsigned char>((i < a.size() ? a[i] : 0) ^ (i < b.size() ? b[i] : 0));
    return diff == 0;
}

bool is_digit_key(char d) { return (d >= '0' && d <= '9') || (d >= 'A' && d <= 'D'); }

} // namespace

const char *prompt_name(Prompt p)
{
    switch (p) {
    case Prompt::Welcome: return "welcome";
    case Prompt::EnterRoom: return "room";
    case Prompt::EnterPin: return "pin";
    case Prompt::NoSuchRoom: return "no_room";
    case Prompt::WrongPin: return "wrong_pin";
    case Prompt::NoInput: return "no_input";
    case Prompt::Connecting: return "connecting";
    case Prompt::Unavailable: return "unavailable";
    case Prompt::Goodbye: return "goodbye";
    }
    return "?";
}

void Dialog::start(int64_t now)
{
    state_ = State::Room;
    actions_.clear();
    entry_.clear();
    room_digits_.clear();
    room_ = {};
    tries_ = 0;
    started_ = last_input_ = now;
    goodbye_deadline_ = -1;
    failure_.clear();
    play({Prompt::Welcome, Prompt::EnterRoom}, now);
}

void Dialog::play(std::vector<Prompt> prompts, int64_t now)
{
    actions_.push_back({Action::Kind::Play, std::move(prompts), "", {}, "", ""});
    playing_ = true;
    last_input_ = now;
}

void Dialog::prompts_finished(int64_t now)
{
    if (!playing_)
        return;
    playing_ = false;
    last_input_ = now;
    if (state_ == State::Goodbye) {
        state_ = State::Failed;
        actions_.push_back({Action::Kind::Failed, {}, "", {}, "", failure_});
    }
}

void Dialog::digit(char d, int64_t now)
{
    if (state_ != State::Room && state_ != State::Pin)
        return; // typed while looking up, connecting or saying goodbye: dropped
    if (playing_) {
        actions_.push_back({Action::Kind::Stop, {}, "", {}, "", ""});
        playing_ = false;
    }
    last_input_ = now;
    if (d == '#')
        return submit(now);
    if (d == '*') { // start the entry over
        return ask({}, now);
    }
    if (!is_digit_key(d))
        return;
    entry_ += d;
    if (entry_.size() >= s_.max_digits)
        submit(now);
}

void Dialog::ask(std::vector<Prompt> before, int64_t now)
{
    entry_.clear();
    before.push_back(state_ == State::Pin ? Prompt::EnterPin : Prompt::EnterRoom);
    play(std::move(before), now);
}

void Dialog::submit(int64_t now)
{
    if (entry_.empty())
        return wrong(Prompt::NoInput, "no digits", now);
    const std::string typed = entry_;
    entry_.clear();
    if (state_ == State::Room) {
        room_digits_ = typed;
        state_ = State::LookingUp;
        actions_.push_back({Action::Kind::Lookup, {}, typed, {}, "", ""});
        return;
    }
    // The PIN: the directory's, or (none there, policy Always) the caller's, for the room server to check.
    if (!room_.pin.empty() && !same_secret(typed, room_.pin))
        return wrong(Prompt::WrongPin, "wrong PIN", now);
    if (room_.pin.empty())
        room_.pin = typed;
    state_ = State::Done;
    play({Prompt::Connecting}, now);
    actions_.push_back({Action::Kind::Done, {}, "", room_, room_digits_, ""});
}

void Dialog::lookup_done(const roomdir::Result &r, int64_t now)
{
    if (state_ != State::LookingUp)
        return;
    switch (r.kind) {
    case roomdir::Result::Kind::Found: {
        room_ = r.room;
        tries_ = 0; // a new question
        const bool ask_pin = s_.pin == PinPolicy::Always || (s_.pin == PinPolicy::Directory && !room_.pin.empty());
        if (ask_pin) {
            state_ = State::Pin;
            return ask({}, now);
        }
        state_ = State::Done;
        play({Prompt::Connecting}, now);
        actions_.push_back({Action::Kind::Done, {}, "", room_, room_digits_, ""});
        return;
    }
    case roomdir::Result::Kind::NotFound:
        state_ = State::Room;
        return wrong(Prompt::NoSuchRoom, "no such room", now);
    case roomdir::Result::Kind::Error:
        // The details (a URL, an HTTP status) are the owner's to log: the reason reaches the caller.
        return goodbye({Prompt::Unavailable, Prompt::Goodbye}, "room directory unavailable", now);
    }
}

void Dialog::wrong(Prompt why, const std::string &reason, int64_t now)
{
    if (++tries_ >= s_.max_tries)
        return goodbye({why, Prompt::Goodbye}, reason + " (" + std::to_string(tries_) + " tries)", now);
    ask({why}, now);
}

void Dialog::goodbye(std::vector<Prompt> prompts, const std::string &reason, int64_t now)
{
    state_ = State::Goodbye;
    failure_ = reason;
    entry_.clear();
    play(std::move(prompts), now);
    goodbye_deadline_ = now + kGoodbyeCapMs;
}

void Dialog::tick(int64_t now)
{
    const bool asking = state_ == State::Room || state_ == State::Pin;
    if ((asking || state_ == State::LookingUp) && now >= started_ + s_.overall_timeout_ms)
        return goodbye({Prompt::Goodbye}, "timeout: no room chosen within " +
                                              std::to_string(s_.overall_timeout_ms / 1000) + " s",
                       now);
    if (asking && !playing_ && now >= last_input_ + s_.digit_timeout_ms) {
        if (!entry_.empty())
            return submit(now); // digits, then a pause: what was typed
        return wrong(Prompt::NoInput, "no digits", now);
    }
    if (state_ == State::Goodbye && now >= goodbye_deadline_) {
        playing_ = true; // as if its end had been heard
        prompts_finished(now);
    }
}

int64_t Dialog::next_deadline() const
{
    switch (state_) {
    case State::Room:
    case State::Pin:
        return playing_ ? started_ + s_.overall_timeout_ms
                        : std::min(started_ + s_.overall_timeout_ms, last_input_ + s_.digit_timeout_ms);
    case State::LookingUp:
        return started_ + s_.overall_timeout_ms;
    case State::Goodbye:
        return goodbye_deadline_;
    default:
        return -1;
    }
}

std::vector<Action> Dialog::take_actions()
{
    std::vector<Action> out;
    out.swap(actions_);
    return out;
}

} // namespace ivr
