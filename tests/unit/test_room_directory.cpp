// The room directory (plugins/common/room_directory/): patterns, the table
// file, the HTTP lookup against a real HTTP server in this process
// (libsoup's SoupServer on a free loopback port), and bad input each way.
#include "room_directory/room_directory.hpp"

#include "scratch_dir.hpp"

#include <doctest/doctest.h>

#include <glib/gstdio.h>
#include <libsoup/soup.h>

#include <fstream>
#include <functional>
#include <map>
#include <optional>
#include <string>

using namespace roomdir;

namespace {

// Removed with its files when the test program ends.
unit::ScratchDir scratch_dir("mgw-roomdir-XXXXXX");

std::string temp_file(const std::string &name, const std::string &text)
{
    const std::string path = scratch_dir.dir + "/" + name;
    std::ofstream(path) << text;
    return path;
}

// Runs the main loop until `done` or 5 s.
void spin_until(const std::function<bool()> &done)
{
    const gint64 deadline = g_get_monotonic_time() + 5 * G_USEC_PER_SEC;
    const guint tick = g_timeout_add(20, [](gpointer) -> gboolean { return G_SOURCE_CONTINUE; }, nullptr); // wakes the loop
    while (!done() && g_get_monotonic_time() < deadline)
        g_main_context_iteration(nullptr, TRUE);
    g_source_remove(tick);
}

// An HTTP directory service on 127.0.0.1: answers per path/key with a
// status and a body, records what it was asked.
struct Directory {
    SoupServer *server = soup_server_new(nullptr, nullptr);
    std::string base;
    std::string last_authorization, last_key, last_path;
    int requests = 0;
    std::function<void(SoupServerMessage *, const std::string &path, const std::string &key)> handler;

    Directory()
    {
        soup_server_add_handler(
            server, nullptr,
            [](SoupServer *, SoupServerMessage *msg, const char *path, GHashTable *query, gpointer self) {
                auto d = static_cast<Directory *>(self);
                ++d->requests;
                const char *auth =
                    soup_message_headers_get_one(soup_server_message_get_request_headers(msg), "Authorization");
                d->last_authorization = auth ? auth : "";
                const char *key = query ? static_cast<const char *>(g_hash_table_lookup(query, "key")) : nullptr;
                d->last_key = key ? key : "";
                d->last_path = path;
                d->handler(msg, path, d->last_key);
            },
            this, nullptr);
        GError *error = nullptr;
        REQUIRE(soup_server_listen_local(server, 0, SOUP_SERVER_LISTEN_IPV4_ONLY, &error));
        GSList *uris = soup_server_get_uris(server);
        gchar *u = g_uri_to_string(static_cast<GUri *>(uris->data));
        base = u;
        g_free(u);
        g_slist_free_full(uris, (GDestroyNotify)g_uri_unref);
        if (!base.empty() && base.back() == '/')
            base.pop_back();
    }
    ~Directory() { g_object_unref(server); }

    static void reply(SoupServerMessage *msg, guint status, const std::string &body,
                      const char *type = "application/json")
    {
        soup_server_message_set_status(msg, status, nullptr);
        soup_server_message_set_response(msg, type, SOUP_MEMORY_COPY, body.data(), body.size());
    }
};

Result lookup_now(RoomDirectory &dir, const std::string &key)
{
    std::optional<Result> got;
    dir.lookup(key, [&](const Result &r) { got = r; });
    spin_until([&] { return got.has_value(); });
    REQUIRE(got.has_value());
    return *got;
}

DirectorySettings http_settings(const std::string &url, const std::string &token = "",
                                unsigned timeout_ms = 2000)
{
    DirectorySettings s;
    s.http.url = url;
    s.http.token = token;
    s.http.timeout_ms = timeout_ms;
    s.service = "janus";
    return s;
}

} // namespace

TEST_CASE("patterns: the first whole match wins, named groups set the fields")
{
    Patterns p({R"((?<room>\d{4})\*(?<pin>\d{2,8}))", R"(room-(?<room>[a-z0-9]+))", R"(\d{4})"});
    size_t which = 99;
    auto r = p.match("1234*9876", &which);
    REQUIRE(r);
    CHECK(which == 0);
    CHECK(r->room == "1234");
    CHECK(r->pin == "9876");
    r = p.match("room-abc7", &which);
    REQUIRE(r);
    CHECK(which == 1);
    CHECK(r->room == "abc7");
    CHECK(r->pin.empty());
    r = p.match("4321", &which);
    REQUIRE(r);
    CHECK(which == 2);
    CHECK(r->room == "4321"); // no room group: the whole key
    CHECK_FALSE(p.match("12345"));       // anchored at both ends
    CHECK_FALSE(p.match("x1234"));
    CHECK_FALSE(p.match("1234*9876\n")); // $ is the end, not a newline before it
    CHECK_FALSE(p.match(""));
    CHECK_FALSE(p.match(std::string("12\xff" "4", 4))); // not UTF-8
}

TEST_CASE("patterns: bad patterns are refused with their place")
{
    CHECK_THROWS_WITH_AS(Patterns({"\\d+", "(?<room>\\d+"}), doctest::Contains("patterns[2]"),
                         std::invalid_argument);
    CHECK_THROWS_WITH_AS(Patterns({"(?<room>\\d+"}), doctest::Contains("at char 11"), // its own offsets
                         std::invalid_argument);
    CHECK_THROWS_WITH_AS(Patterns({"\\Qx"}), doctest::Contains("whole key"), std::invalid_argument); // \Q quotes our ")$"
    CHECK_THROWS_WITH_AS(Patterns({"(?<rooom>\\d+)"}), doctest::Contains("group 'rooom' is not a room field"),
                         std::invalid_argument);
    CHECK_THROWS_WITH_AS(Patterns({"(?P<secret>\\d+)"}), doctest::Contains("'secret'"), std::invalid_argument);
    CHECK_NOTHROW(Patterns({"(?<=x)\\d+|(?<room>\\d+)", "\\(?<room>"})); // a lookbehind and escapes are no groups
}

TEST_CASE("table: rooms by key, defaults, and the directory's order")
{
    const std::string path = temp_file("rooms.toml", R"(# rooms
[room."1234"]
pin = "0042"
service = "janus"

[room.sales]
room = "5678"
url = "https://janus.example.org/janus"
display = "Phone"
)");
    RoomTable t = RoomTable::load(path);
    CHECK(t.size() == 2);
    REQUIRE(t.find("1234"));
    CHECK(t.find("1234")->room == "1234");
    CHECK(t.find("1234")->pin == "0042");
    REQUIRE(t.find("sales"));
    CHECK(t.find("sales")->room == "5678");
    CHECK(t.find("sales")->display == "Phone");
    CHECK_FALSE(t.find("9999"));

    DirectorySettings s;
    s.table = path;
    s.patterns = {R"(\d{4})"};
    s.service = "whip";
    RoomDirectory dir(s);
    Result r = lookup_now(dir, "1234");
    CHECK(r.kind == Result::Kind::Found);
    CHECK(r.source == "table rooms.toml");
    CHECK(r.room.service == "janus");
    r = lookup_now(dir, "sales");
    CHECK(r.room.service == "whip"); // the node's default
    r = lookup_now(dir, "7777");
    CHECK(r.kind == Result::Kind::Found);
    CHECK(r.source == "pattern 1");
    CHECK(r.room.room == "7777");
    r = lookup_now(dir, "nope");
    CHECK(r.kind == Result::Kind::NotFound);
    r = lookup_now(dir, "");
    CHECK(r.kind == Result::Kind::NotFound);
    r = lookup_now(dir, std::string(300, '1'));
    CHECK(r.kind == Result::Kind::NotFound);
    CHECK(r.reason.find("longer than 256") != std::string::npos);
}

TEST_CASE("table: every error at once, each with file:line:col")
{
    try {
        RoomTable::parse(R"([room."1"]
pin = 1234
pn = "x"

[room."2"]
room = ""

[rooms]
x = 1

[room."3"]
display = "a\u0007b"
)",
                         "t.toml");
        FAIL("no error");
    } catch (const TableError &e) {
        const std::string m = e.what();
        CHECK(m.find("t.toml:2:7: error: room \"1\": pin must be a string (quote it") != std::string::npos);
        CHECK(m.find("t.toml:3:1: error: room \"1\": unknown key 'pn'") != std::string::npos);
        CHECK(m.find("t.toml:6:8: error: room \"2\": room must not be empty") != std::string::npos);
        CHECK(m.find("t.toml:8:") != std::string::npos);
        CHECK(m.find("unknown table 'rooms'") != std::string::npos);
        CHECK(m.find("t.toml:12:11: error: room \"3\": display is has a control character") != std::string::npos);
    }
    CHECK_THROWS_WITH_AS(RoomTable::parse("[room.\"1\"\npin = \"2\"\n", "s.toml"), doctest::Contains("s.toml:1:"),
                         TableError);
    CHECK_THROWS_WITH_AS(RoomTable::parse("room = \"x\"\n", "s.toml"),
                         doctest::Contains("s.toml:1:8: error: room must be a table"), TableError);
    CHECK_THROWS_WITH_AS(RoomTable::load("/nonexistent/rooms.toml"), doctest::Contains("cannot read"), TableError);
}

TEST_CASE("table: a changed file is read again; a broken one keeps the old table")
{
    const std::string path = temp_file("live.toml", "[room.\"1\"]\npin = \"1\"\n");
    DirectorySettings s;
    s.table = path;
    RoomDirectory dir(s);
    CHECK(lookup_now(dir, "2").kind == Result::Kind::NotFound);
    g_usleep(20000);
    std::ofstream(path) << "[room.\"2\"]\npin = \"2\"\n";
    CHECK(dir.refresh().empty());
    CHECK(lookup_now(dir, "2").kind == Result::Kind::Found);
    g_usleep(20000);
    std::ofstream(path) << "[room.\"3\"\n";
    CHECK(dir.refresh().find("live.toml:1:") != std::string::npos);
    CHECK(lookup_now(dir, "2").kind == Result::Kind::Found);
}

TEST_CASE("json answers: fields, types and bounds")
{
    Result r = room_from_json(R"({"room": 1234, "pin": "0042", "service": "janus", "extra": [1,2]})",
                       std::string(R"({"room": 1234, "pin": "0042", "service": "janus", "extra": [1,2]})").size());
    REQUIRE(r.kind == Result::Kind::Found);
    CHECK(r.room.room == "1234");
    CHECK(r.room.pin == "0042");
    auto bad = [](const std::string &text) { return room_from_json(text.data(), text.size()).reason; };
    CHECK(bad(R"({"room": true})").find("field 'room': expected a string or a non-negative integer") !=
          std::string::npos);
    CHECK(bad(R"({"room": "1", "service": 5})").find("field 'service': expected a string") != std::string::npos);
    CHECK(bad(R"({"pin": "1"})").find("field 'room': missing") != std::string::npos);
    CHECK(bad(R"({"room": -1})").find("field 'room'") != std::string::npos);
    CHECK(bad(R"({"room": "a\nb"})").find("control character") != std::string::npos);
    CHECK(bad("[1]").find("not a JSON object") != std::string::npos);
    CHECK(bad("{").find("not JSON") != std::string::npos);
    CHECK(bad("").find("empty") != std::string::npos);
    CHECK(bad(std::string(40, '[') + std::string(40, ']')).find("deeper than 32") != std::string::npos);
}

TEST_CASE("http lookup: found, 404, errors, bearer token, key escaping")
{
    Directory d;
    d.handler = [&](SoupServerMessage *msg, const std::string &, const std::string &key) {
        if (key == "1234")
            Directory::reply(msg, 200, R"({"room": 1234, "pin": "4321", "url": "http://janus.test/janus"})");
        else if (key == "boom")
            Directory::reply(msg, 500, "oops", "text/plain");
        else if (key == "garbage")
            Directory::reply(msg, 200, "<html>", "text/html");
        else
            Directory::reply(msg, 404, R"({"error": "no such room"})");
    };
    RoomDirectory dir(http_settings(d.base + "/rooms?tenant=a", "s3cret"));
    Result r = lookup_now(dir, "1234");
    REQUIRE(r.kind == Result::Kind::Found);
    CHECK(r.room.room == "1234");
    CHECK(r.room.pin == "4321");
    CHECK(r.room.service == "janus"); // the default
    CHECK(r.room.url == "http://janus.test/janus");
    CHECK(d.last_authorization == "Bearer s3cret");
    CHECK(d.last_path == "/rooms");
    r = lookup_now(dir, "a b&c=d");
    CHECK(d.last_key == "a b&c=d"); // escaped in the query, read back whole
    CHECK(r.kind == Result::Kind::NotFound);
    CHECK(r.reason.find("HTTP 404") != std::string::npos);
    r = lookup_now(dir, "boom");
    CHECK(r.kind == Result::Kind::Error);
    CHECK(r.reason.find("HTTP 500") != std::string::npos);
    CHECK(r.reason.find("tenant") == std::string::npos); // no query in messages
    r = lookup_now(dir, "garbage");
    CHECK(r.kind == Result::Kind::Error);
    CHECK(r.reason.find("not JSON") != std::string::npos);

    RoomDirectory anonymous(http_settings(d.base + "/rooms"));
    lookup_now(anonymous, "1234");
    CHECK(d.last_authorization.empty());
}

TEST_CASE("http lookup: the answer is bounded before it is read")
{
    Directory d;
    d.handler = [&](SoupServerMessage *msg, const std::string &path, const std::string &) {
        std::string big = R"({"room": "1", "pad": ")" + std::string(200 * 1024, 'x') + "\"}";
        if (path == "/chunked") {
            soup_server_message_set_status(msg, 200, nullptr);
            SoupMessageHeaders *h = soup_server_message_get_response_headers(msg);
            soup_message_headers_set_encoding(h, SOUP_ENCODING_CHUNKED);
            SoupMessageBody *body = soup_server_message_get_response_body(msg);
            for (size_t i = 0; i < big.size(); i += 8192)
                soup_message_body_append(body, SOUP_MEMORY_COPY, big.data() + i, std::min<size_t>(8192, big.size() - i));
            soup_message_body_complete(body);
        } else {
            Directory::reply(msg, 200, big);
        }
    };
    RoomDirectory sized(http_settings(d.base + "/sized"));
    Result r = lookup_now(sized, "1");
    CHECK(r.kind == Result::Kind::Error);
    CHECK(r.reason.find("Content-Length") != std::string::npos);
    RoomDirectory chunked(http_settings(d.base + "/chunked"));
    r = lookup_now(chunked, "1");
    CHECK(r.kind == Result::Kind::Error);
    CHECK(r.reason.find("over 65536 bytes") != std::string::npos);
}

TEST_CASE("http lookup: redirects stay within the origin, with the token")
{
    Directory d, other;
    other.handler = [&](SoupServerMessage *msg, const std::string &, const std::string &) {
        Directory::reply(msg, 200, R"({"room": "stolen"})");
    };
    d.handler = [&](SoupServerMessage *msg, const std::string &path, const std::string &) {
        if (path == "/moved")
            soup_server_message_set_redirect(msg, 307, "/rooms?key=1");
        else if (path == "/away")
            soup_server_message_set_redirect(msg, 302, (other.base + "/rooms?key=1").c_str());
        else if (path == "/loop")
            soup_server_message_set_redirect(msg, 302, "/loop");
        else
            Directory::reply(msg, 200, R"({"room": "1"})");
    };
    RoomDirectory moved(http_settings(d.base + "/moved", "tok"));
    Result r = lookup_now(moved, "1");
    CHECK(r.kind == Result::Kind::Found);
    CHECK(d.last_path == "/rooms");
    CHECK(d.last_authorization == "Bearer tok");
    RoomDirectory away(http_settings(d.base + "/away", "tok"));
    r = lookup_now(away, "1");
    CHECK(r.kind == Result::Kind::Error);
    CHECK(r.reason.find("another origin") != std::string::npos);
    CHECK(other.requests == 0);
    RoomDirectory loop(http_settings(d.base + "/loop"));
    r = lookup_now(loop, "1");
    CHECK(r.kind == Result::Kind::Error);
    CHECK(r.reason.find("more than 3 redirects") != std::string::npos);
}

TEST_CASE("http lookup: a silent server times out; cancel drops the answer; bad URLs")
{
    Directory d;
    std::vector<SoupServerMessage *> held;
    d.handler = [&](SoupServerMessage *msg, const std::string &, const std::string &) {
        soup_server_message_pause(msg); // never answered
        held.push_back(msg);
    };
    RoomDirectory dir(http_settings(d.base + "/rooms", "", 300));
    const gint64 t0 = g_get_monotonic_time();
    Result r = lookup_now(dir, "1");
    const gint64 took_ms = (g_get_monotonic_time() - t0) / 1000;
    CHECK(r.kind == Result::Kind::Error);
    CHECK(r.reason.find("no answer within 300 ms") != std::string::npos);
    CHECK(took_ms >= 280);
    CHECK(took_ms < 1500);

    bool called = false;
    dir.lookup("2", [&](const Result &) { called = true; });
    dir.cancel();
    const gint64 until = g_get_monotonic_time() + 500000; // the loop runs; nothing may arrive
    spin_until([&] { return g_get_monotonic_time() > until; });
    CHECK_FALSE(called);
    for (auto *m : held)
        soup_server_message_unpause(m);

    CHECK_THROWS_AS(RoomDirectory(http_settings("ftp://example.org/rooms")), std::invalid_argument);
    CHECK_THROWS_AS(RoomDirectory(http_settings("/relative")), std::invalid_argument);
    CHECK_THROWS_WITH(RoomDirectory(http_settings("ftp://user:pw@x/rooms?token=abc")),
                      doctest::Contains("\"ftp://x/rooms\" is not")); // no user info or query in messages
}
