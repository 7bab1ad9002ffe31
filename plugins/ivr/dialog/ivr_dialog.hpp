// The IVR's conversation as a state machine, without a pipeline or a clock
// of its own: the owner feeds it digits, the end of prompts, directory
// answers and the time (milliseconds of any monotonic clock), and carries
// out the actions it asks for (play prompts, look a room up, finish).
//
//   welcome + "enter the room" -> digits ... '#' -> lookup
//     no such room: "no such room" + ask again (a try), until max_tries
//     found, with a PIN: "enter the PIN" -> digits ... '#' -> compare
//       wrong: "wrong PIN" + ask again (a try), until max_tries
//   -> "connecting", Done (the room's values)
//   silence: after digit_timeout_ms without a digit (counted from the end
//   of the prompt), "no input" + ask again (a try); digits then a pause
//   submit what was typed; '*' clears the entry and asks again.
//   overall_timeout_ms from the start, or max_tries used up, or the
//   directory failing: the failure's prompt + goodbye, then Failed.
#pragma once

#include "room_directory/room.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace ivr {

enum class Prompt { Welcome, EnterRoom, EnterPin, NoSuchRoom, WrongPin, NoInput, Connecting, Unavailable, Goodbye };
const char *prompt_name(Prompt p); // "welcome", "room", ... (file names of user-supplied WAVs)
inline constexpr Prompt kAllPrompts[] = {Prompt::Welcome,    Prompt::EnterRoom,   Prompt::EnterPin,
                                         Prompt::NoSuchRoom, Prompt::WrongPin,    Prompt::NoInput,
                                         Prompt::Connecting, Prompt::Unavailable, Prompt::Goodbye};

enum class PinPolicy {
    Directory, // ask when the room has a PIN, and check it
    Always,    // ask always; check it when the room has one, else pass it on (the room server checks)
    Never,     // never ask
};

struct DialogSettings {
    int64_t digit_timeout_ms = 5000;
    int64_t overall_timeout_ms = 60000;
    int max_tries = 3;
    size_t max_digits = 16;
    PinPolicy pin = PinPolicy::Directory;
};

struct Action {
    enum class Kind {
        Play,   // stop whatever plays, then play `prompts` in order
        Stop,   // stop playing (the caller types over a prompt)
        Lookup, // ask the directory for `key`; answer with lookup_done()
        Done,   // the caller is through: `room`, `digits`, `pin` (what the caller typed, or the directory's)
        Failed, // the goodbye was played: end the call with `reason`
    } kind;
    std::vector<Prompt> prompts;
    std::string key;
    roomdir::Room room;
    std::string digits;
    std::string reason;
};

class Dialog {
public:
    enum class State { Idle, Room, LookingUp, Pin, Done, Goodbye, Failed };

    explicit Dialog(DialogSettings s) : s_(s) {}

    void start(int64_t now);
    void digit(char d, int64_t now);
    void prompts_finished(int64_t now); // what the last Play asked for has been heard
    void lookup_done(const roomdir::Result &r, int64_t now);
    void tick(int64_t now); // timers: call at next_deadline()
    // The next time tick() has something to do; -1: none.
    int64_t next_deadline() const;
    std::vector<Action> take_actions();

    State state() const { return state_; }
    int tries() const { return tries_; }
    const std::string &entry() const { return entry_; }

private:
    void ask(std::vector<Prompt> before, int64_t now); // before + this stage's question
    void submit(int64_t now);
    void wrong(Prompt why, const std::string &reason, int64_t now);
    void goodbye(std::vector<Prompt> prompts, const std::string &reason, int64_t now);
    void play(std::vector<Prompt> prompts, int64_t now);

    DialogSettings s_;
    State state_ = State::Idle;
    std::vector<Action> actions_;
    std::string entry_;      // digits of the current entry
    std::string room_digits_;
    roomdir::Room room_;
    int tries_ = 0;          // failed entries at this stage
    bool playing_ = false;   // a prompt plays: the digit timer waits for its end
    int64_t started_ = 0;
    int64_t last_input_ = 0; // the end of the last prompt or the last digit
    int64_t goodbye_deadline_ = -1;
    std::string failure_;
};

} // namespace ivr
