// Join scripts (plugins/browser-capture/join/join_script.cpp): the format's
// checks with their positions, variable quoting, the search path, and the
// shipped scripts of conf/join parse.
#include "../../plugins/browser-capture/devtools/loggable_url.hpp"
#include "../../plugins/browser-capture/join/ice_servers.hpp"
#include "../../plugins/browser-capture/join/join_runner.hpp"
#include "../../plugins/browser-capture/join/join_script.hpp"

#include <doctest/doctest.h>

#include <glib.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <stdexcept>

using namespace browsercapture;

namespace {

const char *full_example = R"TOML(
[service]
name = "Example"
source = "https://example.org/client.js"

[[step]]
name = "open"
wait = "#start"
timeout = 15

[[step]]
name = "start"
click = "#start"

[[step]]
name = "name"
type = { into = "input[name=display]", text = "${display_name}" }

[[step]]
name = "joined"
wait_until = "window.room && window.room.joined"

[[step]]
name = "settle"
sleep = 0.5

[[step]]
name = "hello"
eval = "window.hello(${display_name}, ${room})"

[participants]
count = "document.querySelectorAll('.remote').length"
names = "[...document.querySelectorAll('.remote .name')].map(e => e.textContent)"

[leave]
click = "#hangup"

[actions]
"*6" = { name = "mute", eval = "toggleMute()" }
"#1" = { name = "hand", click = "button.hand" }
)TOML";

std::string errors_of(const std::string &text, std::map<std::string, std::string> vars = {})
{
    try {
        parse_join_script_text(text, "s.toml", vars);
    } catch (const std::runtime_error &e) {
        return e.what();
    }
    return "";
}

const std::string head = "[service]\nname = \"x\"\n";

} // namespace

TEST_CASE("join script: the full example")
{
    auto s = parse_join_script_text(full_example, "ex.toml", {{"display_name", "Ann"}, {"room", "42"}});
    CHECK(s.name == "Example");
    CHECK(s.source == "https://example.org/client.js");
    REQUIRE(s.steps.size() == 6);
    CHECK(s.steps[0].kind == StepKind::wait);
    CHECK(s.steps[0].arg == "#start");
    CHECK(s.steps[0].timeout == 15);
    CHECK(s.steps[0].where == "ex.toml:6:1");
    CHECK(s.steps[1].kind == StepKind::click);
    CHECK(s.steps[1].timeout == 10);
    CHECK(s.steps[2].kind == StepKind::type);
    CHECK(s.steps[2].arg == "input[name=display]");
    CHECK(s.steps[2].text == "Ann");
    CHECK(s.steps[3].kind == StepKind::wait_until);
    CHECK(s.steps[4].kind == StepKind::sleep);
    CHECK(s.steps[4].seconds == 0.5);
    CHECK(s.steps[5].arg == "window.hello(\"Ann\", \"42\")");
    CHECK(s.participants_count == "document.querySelectorAll('.remote').length");
    CHECK(!s.participants_names.empty());
    REQUIRE(s.leave);
    CHECK(s.leave->click);
    CHECK(s.leave->arg == "#hangup");
    REQUIRE(s.actions.size() == 2);
    REQUIRE(s.action("*6"));
    CHECK(s.action("*6")->name == "mute");
    CHECK_FALSE(s.action("*6")->trigger.click);
    CHECK(s.action("#1")->trigger.click);
    CHECK(s.action("*7") == nullptr);
}

TEST_CASE("join script: errors name file:line:col")
{
    // Unknown key (with a suggestion), in a step and at the top.
    auto e = errors_of(head + "[[step]]\nname = \"a\"\nwiat = \"#x\"\n");
    CHECK(e.find("s.toml:3:1: error: step 'a' has no action") != std::string::npos);
    CHECK(e.find("s.toml:5:1: error: unknown key 'wiat' in step 'a' (did you mean 'wait'?)") != std::string::npos);
    CHECK(errors_of(head + "[[step]]\nname = \"a\"\nwait = \"#x\"\n[extra]\n").find(
              "s.toml:6:2: error: unknown key 'extra' in the join script") == 0);

    // Two actions: the second is named.
    CHECK(errors_of(head + "[[step]]\nname = \"a\"\nwait = \"#x\"\nclick = \"#y\"\n") ==
          "s.toml:6:1: error: step 'a' has two actions ('wait' and 'click'): give one per step");

    // Duplicate step names.
    CHECK(errors_of(head + "[[step]]\nname = \"a\"\nwait = \"#x\"\n[[step]]\nname = \"a\"\nclick = \"#x\"\n") ==
          "s.toml:7:1: error: duplicate step name 'a' (first at s.toml:4:1)");

    // A step without a name.
    CHECK(errors_of(head + "[[step]]\nwait = \"#x\"\n") ==
          "s.toml:3:1: error: a [[step]] needs a name (it names the step in errors)");

    // Bad DTMF keys.
    auto d = errors_of(head + "[[step]]\nname = \"a\"\nwait = \"#x\"\n[actions]\n\"*66666\" = { name = \"m\", "
                              "eval = \"x()\" }\n\"x\" = { name = \"n\", click = \"#m\" }\n");
    CHECK(d.find("s.toml:7:1: error: bad DTMF key '*66666' in [actions]: 1 to 4 of 0-9 * # A-D") != std::string::npos);
    CHECK(d.find("s.toml:8:1: error: bad DTMF key 'x'") != std::string::npos);

    // An action with both click and eval, or neither.
    CHECK(errors_of(head + "[[step]]\nname = \"a\"\nwait = \"#x\"\n[actions]\n\"*6\" = { name = \"m\", eval = \"x()\", "
                           "click = \"#m\" }\n") ==
          "s.toml:7:36: error: action '*6' has both click and eval: give one");
    CHECK(errors_of(head + "[[step]]\nname = \"a\"\nwait = \"#x\"\n[leave]\n") ==
          "s.toml:6:1: error: [leave] needs click = \"selector\" or eval = \"JS\"");

    // Unknown variables, where they are used.
    CHECK(errors_of(head + "[[step]]\nname = \"a\"\neval = \"join(${display})\"\n") ==
          "s.toml:5:8: error: unknown variable '${display}' (did you mean 'display_name'?) (known: display_name, "
          "room, pin, url, width, height, ice_servers)");

    // type needs both fields; timeout must be positive.
    CHECK(errors_of(head + "[[step]]\nname = \"a\"\ntype = { into = \"#n\" }\n") ==
          "s.toml:5:8: error: step 'a': type needs both into = \"selector\" and text = \"...\"");
    CHECK(errors_of(head + "[[step]]\nname = \"a\"\nwait = \"#n\"\ntimeout = 0\n") ==
          "s.toml:6:11: error: step 'a': timeout must be more than 0 to 86400 seconds");

    // TOML syntax errors keep toml++'s position.
    CHECK(errors_of("[service\n").rfind("s.toml:1:", 0) == 0);

    // No [service], no step.
    CHECK(errors_of("") == "s.toml:1:1: error: the join script has no [service] table (name = \"...\")\n"
                           "s.toml:1:1: error: the join script has no [[step]]");
}

TEST_CASE("join script: variables are JS strings in JS, text in selectors")
{
    const std::string evil = "\"); alert(1); (\"";
    auto s = parse_join_script_text(head + "[[step]]\nname = \"a\"\neval = \"join(${display_name})\"\n"
                                           "[[step]]\nname = \"b\"\nclick = \"[title='${display_name}']\"\n"
                                           "[[step]]\nname = \"c\"\ntype = { into = \"#n\", text = \"${display_name}\" }\n"
                                           "[[step]]\nname = \"d\"\neval = \"`$${x}`\"\n",
                                    "s.toml", {{"display_name", evil}});
    // In JS: one string literal holding the name, nothing else.
    CHECK(s.steps[0].arg == "join(\"\\\"); alert(1); (\\\"\")");
    CHECK(s.steps[0].arg == "join(" + js_string(evil) + ")");
    // In a selector: the text itself; the runner quotes the whole selector.
    CHECK(s.steps[1].arg == "[title='" + evil + "']");
    auto click = step_expression(s.steps[1]);
    CHECK(click.find("document.querySelector(" + js_string("[title='" + evil + "']") + ")") != std::string::npos);
    auto type = step_expression(s.steps[2]);
    CHECK(type.find("const text = " + js_string(evil) + ";") != std::string::npos);
    // "$${" is a literal "${" (JS template literals).
    CHECK(s.steps[3].arg == "`${x}`");
    // Absent variables are empty.
    CHECK(parse_join_script_text(head + "[[step]]\nname = \"a\"\neval = \"f(${pin})\"\n", "s.toml", {}).steps[0].arg ==
          "f(\"\")");

    CHECK(js_string("a\"b\\c\nd</script>\u2028") == "\"a\\\"b\\\\c\\nd\\u003c/script>\\u2028\"");
    CHECK(js_string(std::string("\x01", 1)) == "\"\\u0001\"");
}

TEST_CASE("join script: search path")
{
    namespace fs = std::filesystem;
    char tmpl[] = "/tmp/join-test-XXXXXX";
    REQUIRE(g_mkdtemp(tmpl) != nullptr);
    fs::path dir = tmpl;
    fs::create_directories(dir / "a");
    fs::create_directories(dir / "xdg" / "mediagw" / "join");
    std::ofstream(dir / "a" / "one.toml") << "x";
    std::ofstream(dir / "xdg" / "mediagw" / "join" / "one.toml") << "x";
    std::ofstream(dir / "xdg" / "mediagw" / "join" / "two.toml") << "x";

    setenv("MEDIAGW_JOIN_PATH", ("/nonexistent:" + (dir / "a").string()).c_str(), 1);
    setenv("XDG_CONFIG_HOME", (dir / "xdg").c_str(), 1);
    std::string searched;
    CHECK(find_join_script("one", searched) == (dir / "a" / "one.toml").string());
    CHECK(find_join_script("two", searched) == (dir / "xdg" / "mediagw" / "join" / "two.toml").string());
    // The source tree's conf/join (uninstalled runs) comes after the user's folders.
    CHECK(find_join_script("janus-videoroom", searched) == std::string(MGW_JOIN_SOURCE_DIR) + "/janus-videoroom.toml");
    // A path is a path.
    CHECK(find_join_script((dir / "a" / "one.toml").string(), searched) == (dir / "a" / "one.toml").string());
    CHECK_THROWS_WITH_AS(find_join_script("missing.toml", searched), "join script 'missing.toml' not found (no such file)",
                         std::runtime_error);
    try {
        find_join_script("nope", searched);
        FAIL("no error");
    } catch (const std::runtime_error &e) {
        std::string m = e.what();
        CHECK(m.find("join script 'nope' not found: looked for nope.toml in /nonexistent: " + (dir / "a").string() +
                     ": " + (dir / "xdg" / "mediagw" / "join").string() + ": " + MGW_JOIN_SOURCE_DIR) == 0);
    }
    unsetenv("XDG_CONFIG_HOME");
    setenv("HOME", dir.c_str(), 1);
    find_join_script("janus-videoroom", searched);
    CHECK(searched.find((dir / ".config" / "mediagw" / "join").string()) != std::string::npos);
    unsetenv("MEDIAGW_JOIN_PATH");
    fs::remove_all(dir);
}

TEST_CASE("join script: the shipped scripts parse")
{
    std::map<std::string, std::string> vars{{"display_name", "SIP caller"}, {"room", "1234"}, {"pin", ""},
                                            {"url", "http://x/"},           {"width", "640"}, {"height", "360"}};
    int n = 0;
    for (const auto &e : std::filesystem::directory_iterator(MGW_JOIN_SOURCE_DIR)) {
        if (e.path().extension() != ".toml")
            continue;
        CAPTURE(e.path().string());
        auto s = parse_join_script(e.path().string(), vars);
        CHECK(!s.steps.empty());
        CHECK(!s.name.empty());
        CHECK(!s.source.empty());
        ++n;
    }
    CHECK(n >= 5);
}

TEST_CASE("DTMF keys: digits within 3 s of each other")
{
    using namespace std::chrono_literals;
    DtmfKeys keys({"*6", "#1", "123", "9"});
    auto t = DtmfKeys::Clock::time_point{} + 100s;
    CHECK_FALSE(keys.push('*', t));
    CHECK(keys.push('6', t + 2s) == std::optional<std::string>("*6"));
    // Too slow: the buffer restarts with the late digit.
    CHECK_FALSE(keys.push('*', t + 10s));
    CHECK_FALSE(keys.push('6', t + 14s));
    CHECK(keys.buffer().empty());
    // A digit that continues no key resets, and may start one.
    CHECK_FALSE(keys.push('5', t + 20s));
    CHECK(keys.buffer().empty());
    CHECK_FALSE(keys.push('*', t + 20s));
    CHECK_FALSE(keys.push('*', t + 20s)); // "**" is no key's prefix: "*" again
    CHECK(keys.buffer() == "*");
    CHECK(keys.push('6', t + 21s) == std::optional<std::string>("*6"));
    CHECK_FALSE(keys.push('1', t + 30s));
    CHECK_FALSE(keys.push('2', t + 31s));
    CHECK(keys.push('3', t + 32s) == std::optional<std::string>("123"));
    CHECK_FALSE(keys.push('1', t + 40s));
    CHECK(keys.push('9', t + 40s) == std::optional<std::string>("9")); // "19" no prefix: "9" alone matches
    CHECK(keys.push('#', t + 50s) == std::nullopt);
    CHECK(keys.push('1', t + 50s) == std::optional<std::string>("#1"));
    CHECK(valid_dtmf_key("*6"));
    CHECK(valid_dtmf_key("ABCD"));
    CHECK_FALSE(valid_dtmf_key("12345"));
    CHECK_FALSE(valid_dtmf_key(""));
    CHECK_FALSE(valid_dtmf_key("a"));
    CHECK_FALSE(valid_dtmf_key("E"));
}

TEST_CASE("a turn node's servers as RTCIceServer JSON for ${ice_servers}")
{
    CHECK(rtc_ice_servers_json(nullptr) == "[]");
    const char *stun[] = {"stun://stun.example.org:3478", nullptr};
    const char *turn[] = {"turn://1700000000%3Amediagw:c2VjcmV0@turn.example.org:3478?transport=udp", nullptr};
    GstStructure *s = gst_structure_new("ice-servers", "stun", G_TYPE_STRV, stun, "turn", G_TYPE_STRV, turn,
                                        "username", G_TYPE_STRING, "1700000000:mediagw", "password", G_TYPE_STRING,
                                        "c2VjcmV0\"", nullptr);
    CHECK(rtc_ice_servers_json(s) ==
          "[{\"urls\":\"stun:stun.example.org:3478\"},"
          "{\"urls\":\"turn:turn.example.org:3478?transport=udp\",\"username\":\"1700000000:mediagw\","
          "\"credential\":\"c2VjcmV0\\\"\"}]");
    gst_structure_free(s);
}

TEST_CASE("a page's URL in logs and events keeps no user info, query or fragment")
{
    CHECK(loggable_url("https://meet.example.org/standup?jwt=eyJhbGciOi.x.y#config.prejoinPageEnabled=false") ==
          "https://meet.example.org/standup");
    CHECK(loggable_url("https://user:pw@bbb.example.org:8443/join/room") == "https://bbb.example.org:8443/join/room");
    CHECK(loggable_url("http://127.0.0.1:8080/") == "http://127.0.0.1:8080/");
    CHECK(loggable_url("not a url") == "(the page's URL, unparsable)");
}
