// Join scripts: what to do on a conference service's page to join its room
// (conf/join/README.md documents the format). A small TOML file per service,
// read at run time, so users add services without rebuilding.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace browsercapture {

enum class StepKind { wait, wait_until, click, type, eval, sleep };

const char *step_kind_name(StepKind kind);

// Variables are already substituted: `arg` and `text` hold the final text.
struct JoinStep {
    std::string name;
    StepKind kind = StepKind::wait;
    std::string arg;       // wait/click/type: a CSS selector; wait_until/eval: JS
    std::string text;      // type: the text to type
    double seconds = 0;    // sleep
    double timeout = 10;   // seconds: how long a wait (or a click/type's element) may take
    std::string where;     // "file:line:col" of the step, for messages
};

// [leave] and each [actions] entry: a click on a selector or a JS eval.
struct JoinTrigger {
    bool click = false;
    std::string arg;       // selector (click) or JS (eval)
};

struct JoinAction {
    std::string key;       // DTMF: digits, *, #, A-D; 1 to 4 long ("*6")
    std::string name;      // "mute"
    JoinTrigger trigger;
};

struct JoinScript {
    std::string path;
    std::string name;      // [service] name
    std::string source;    // [service] source: where the selectors were read
    std::vector<JoinStep> steps;
    std::string participants_count; // JS (empty: the script has no [participants])
    std::string participants_names; // JS (optional)
    std::optional<JoinTrigger> leave;
    std::vector<JoinAction> actions;

    const JoinAction *action(const std::string &key) const;
};

// The variables a script may use: ${display_name}, ${room}, ${pin}, ${url},
// ${width}, ${height}, ${ice_servers} (a JSON array of RTCIceServer, from the
// node's `ice`). One absent from `vars` becomes the empty string; an
// unknown one (in the file) is an error.
const std::vector<std::string> &join_variables();

// Reads and checks a join script. Throws std::runtime_error whose what() is
// "file:line:col: error: message" (one line per error found).
JoinScript parse_join_script(const std::string &path, const std::map<std::string, std::string> &vars);
// Same, from text (`path` only names it in messages).
JoinScript parse_join_script_text(const std::string &text, const std::string &path,
                                  const std::map<std::string, std::string> &vars);

// A node's `join` value: one containing '/' or ending in ".toml" is a path;
// otherwise NAME.toml is looked up in $MEDIAGW_JOIN_PATH (colon list), then
// $XDG_CONFIG_HOME/mediagw/join (default ~/.config/mediagw/join), then the
// source tree's conf/join (uninstalled runs), then ${datadir}/mediagw/join.
// Returns the file's path; `searched` gets the folders looked in, in order
// (": "-separated). Throws std::runtime_error naming them when not found.
std::string find_join_script(const std::string &name_or_path, std::string &searched);

// `text` as a JS string literal (JSON-quoted; also escapes U+2028/2029 and
// '<' so it is safe anywhere in a script).
std::string js_string(std::string_view text);

// True for a valid DTMF key of [actions]: 1-4 of 0-9 * # A-D.
bool valid_dtmf_key(std::string_view key);

} // namespace browsercapture
