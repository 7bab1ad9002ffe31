// Janus' answers and events as webrtc-direct reads them (janus/janus_json.cpp):
// wrong types, missing fields and nested garbage read as absent, never as a
// json-glib critical, a crash or a wrong id.
#include "../../plugins/webrtc-direct/janus/janus_json.hpp"

#include <doctest/doctest.h>

#include <vector>

using namespace webrtcdirect;

namespace {

int criticals = 0;

// json-glib reports a wrong-type access with g_critical (and goes on with 0
// or NULL): counted here, every test expects none.
struct CountCriticals {
    guint handler;
    CountCriticals()
    {
        criticals = 0;
        handler = g_log_set_handler("Json", (GLogLevelFlags)(G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_WARNING),
                                    [](const gchar *, GLogLevelFlags, const gchar *, gpointer) { ++criticals; },
                                    nullptr);
    }
    ~CountCriticals() { g_log_remove_handler("Json", handler); }
};

struct Doc {
    JsonParser *parser = json_parser_new();
    JsonNode *root = nullptr;
    explicit Doc(const std::string &text) { root = parse_json(parser, text.data(), text.size()); }
    ~Doc() { g_object_unref(parser); }
    JsonObject *object() const { return root && JSON_NODE_HOLDS_OBJECT(root) ? json_node_get_object(root) : nullptr; }
};

} // namespace

TEST_CASE("ids: positive integers only")
{
    CountCriticals count;
    Doc d(R"({"a": 42, "b": "42", "c": 4.2, "d": -1, "e": null, "f": {"x": 1}, "g": [1], "h": true,
              "i": 9223372036854775807, "j": 0})");
    JsonObject *o = d.object();
    REQUIRE(o);
    CHECK(json_id(o, "a") == 42);
    for (const char *name : {"b", "c", "d", "e", "f", "g", "h", "j", "missing"}) {
        CAPTURE(name);
        CHECK(json_id(o, name) == 0);
    }
    CHECK(json_id(o, "i") == 9223372036854775807ull);
    CHECK(json_id(nullptr, "a") == 0);
    CHECK(criticals == 0);
}

TEST_CASE("text members: strings and integers read, anything else empty")
{
    CountCriticals count;
    Doc d(R"({"s": "joined", "n": 433, "b": false, "f": 1.5, "o": {}, "a": [], "z": null})");
    JsonObject *o = d.object();
    CHECK(json_text(o, "s") == "joined");
    CHECK(json_text(o, "n") == "433");
    CHECK(json_text(o, "b") == "false");
    for (const char *name : {"f", "o", "a", "z", "missing"})
        CHECK(json_text(o, name).empty());
    CHECK(json_object_member(o, "o") != nullptr);
    CHECK(json_object_member(o, "a") == nullptr);
    CHECK(json_array_member(o, "a") != nullptr);
    CHECK(json_array_member(o, "o") == nullptr);
    CHECK(criticals == 0);
}

TEST_CASE("errors: Janus', the plugin's, and an error with nothing readable")
{
    CountCriticals count;
    CHECK(janus_error(Doc(R"({"janus":"error","error":{"code":458,"reason":"No such session 1"}})").object()) ==
          "Janus error 458: No such session 1");
    CHECK(janus_error(Doc(R"({"janus":"error","error":{"code":"458","reason":["x"]}})").object()) ==
          "Janus error 458: ");
    CHECK(janus_error(Doc(R"({"janus":"success","plugindata":{"data":{"error_code":433,"error":"wrong pin"}}})").object()) ==
          "Janus error 433: wrong pin");
    // "error" of the wrong type used to read as success.
    CHECK(janus_error(Doc(R"({"janus":"error","error":"boom"})").object()) == "Janus error (no details)");
    CHECK(janus_error(Doc(R"({"janus":"success","data":{"id":1}})").object()).empty());
    CHECK(janus_error(Doc(R"({"janus":"success","plugindata":"garbage"})").object()).empty());
    CHECK(janus_error(nullptr).empty());
    CHECK(criticals == 0);
}

TEST_CASE("events with wrong types and missing fields")
{
    CountCriticals count;
    JanusEvent e = janus_event(Doc(R"({"janus":"event","sender":"77","plugindata":{"data":[1,2]},
                                       "jsep":{"type":5,"sdp":{"v":0}},"reason":{}})").object());
    CHECK(e.type == "event");
    CHECK(e.handle == 0);
    CHECK(e.data == nullptr);
    CHECK(e.jsep_type == "5");
    CHECK(e.jsep_sdp.empty());
    CHECK(e.reason.empty());

    Doc good(R"({"janus":"event","sender":77,"plugindata":{"plugin":"janus.plugin.videoroom",
                 "data":{"videoroom":"joined","id":99,"publishers":[{"id":5,"display":"A"},"garbage",7,null,{"id":"6"}]}},
                 "jsep":{"type":"offer","sdp":"v=0"}})");
    e = janus_event(good.object());
    CHECK(e.handle == 77);
    REQUIRE(e.data != nullptr);
    CHECK(json_text(e.data, "videoroom") == "joined");
    CHECK(e.jsep_type == "offer");
    CHECK(e.jsep_sdp == "v=0");
    JsonArray *publishers = json_array_member(e.data, "publishers");
    REQUIRE(publishers);
    std::vector<guint64> ids;
    for (guint i = 0; i < json_array_get_length(publishers) + 2; ++i)
        ids.push_back(json_id(json_object_element(publishers, i), "id"));
    CHECK(ids == std::vector<guint64>{5, 0, 0, 0, 0, 0, 0});
    CHECK(json_object_element(nullptr, 0) == nullptr);

    JanusEvent empty = janus_event(nullptr);
    CHECK(empty.type.empty());
    CHECK(criticals == 0);
}

TEST_CASE("nesting is bounded before json-glib recurses")
{
    CountCriticals count;
    const std::string deep = std::string(200000, '[') + std::string(200000, ']');
    CHECK(Doc(deep).root == nullptr); // json-glib alone would overflow the stack
    const std::string deep_objects = [] {
        std::string s;
        for (int i = 0; i < 50000; ++i)
            s += "{\"a\":";
        return s + "1" + std::string(50000, '}');
    }();
    CHECK(Doc(deep_objects).root == nullptr);
    // Brackets inside strings do not count; a document at the bound parses.
    CHECK(Doc("{\"s\":\"" + std::string(1000, '[') + "\\\"[\"}").root != nullptr);
    const std::string at_bound = std::string(kMaxJsonDepth, '[') + std::string(kMaxJsonDepth, ']');
    CHECK(Doc(at_bound).root != nullptr);
    CHECK(Doc("[" + at_bound + "]").root == nullptr);
    CHECK(Doc("not json").root == nullptr);
    CHECK(Doc("").root == nullptr);
    CHECK(criticals == 0);
}
