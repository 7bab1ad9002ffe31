// The served room's /status document (plugins/webrtc-direct/serve/status_json.cpp):
// valid JSON whatever the caller's name holds.
#include "../../plugins/webrtc-direct/serve/status_json.hpp"

#include <doctest/doctest.h>
#include <json-glib/json-glib.h>

using namespace webrtcdirect;

namespace {
JsonObject *parsed(JsonParser *parser, const std::string &text)
{
    GError *error = nullptr;
    const bool ok = json_parser_load_from_data(parser, text.c_str(), (gssize)text.size(), &error);
    if (error) {
        MESSAGE(error->message);
        g_error_free(error);
    }
    REQUIRE(ok);
    REQUIRE(JSON_NODE_HOLDS_OBJECT(json_parser_get_root(parser)));
    return json_node_get_object(json_parser_get_root(parser));
}
} // namespace

TEST_CASE("/status is valid JSON whatever the caller's name holds")
{
    const std::string hostile = "\"Mallory\\\" <sip:m\"a\\l@evil.example>\n\t\x01\x1f\x7f caf\xc3\xa9 \xe2\x98\x83 }{,";
    g_autoptr(JsonParser) parser = json_parser_new();
    JsonObject *o = parsed(parser, status_json({true, hostile, 2, 3}));
    CHECK(std::string(json_object_get_string_member(o, "call")) == "active");
    CHECK(std::string(json_object_get_string_member(o, "caller")) == hostile);
    CHECK(json_object_get_int_member(o, "participants") == 2);
    CHECK(json_object_get_int_member(o, "sessions") == 3);

    // Invalid UTF-8 (SIP headers are bytes): replaced, the document stays valid.
    g_autoptr(JsonParser) parser2 = json_parser_new();
    JsonObject *o2 = parsed(parser2, status_json({false, "bad \xff\xfe\xc3 end", 0, 0}));
    CHECK(std::string(json_object_get_string_member(o2, "call")) == "waiting");
    const std::string caller = json_object_get_string_member(o2, "caller");
    CHECK(g_utf8_validate(caller.c_str(), -1, nullptr));
    CHECK(caller.rfind("bad ", 0) == 0);
    CHECK(caller.find(" end") != std::string::npos);
}
