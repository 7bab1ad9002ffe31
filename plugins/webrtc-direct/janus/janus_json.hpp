// Reading Janus' JSON (replies and events of its HTTP and WebSocket APIs)
// without trusting its shape: a member of the wrong type reads as absent
// (never a json-glib critical), ids are positive integers or nothing.
#pragma once

#include <json-glib/json-glib.h>

#include <string>

namespace webrtcdirect {

struct JanusEvent {
    guint64 handle = 0;             // "sender"; 0 for session-level events
    std::string type;               // "event", "webrtcup", "hangup", "media", "detached", ...
    JsonObject *data = nullptr;     // plugindata.data, if any (valid while the event's JSON is)
    std::string jsep_type, jsep_sdp; // an offer or answer riding on the event
    std::string reason;             // of a hangup
};

// Parses one JSON document into `parser`; its root, or nullptr. Nesting is
// bounded first (json-glib recurses once per level: "[[[[..." a megabyte
// deep would overflow the stack); Janus' documents are a few levels deep.
constexpr int kMaxJsonDepth = 32;
JsonNode *parse_json(JsonParser *parser, const char *data, gsize size);

// A string member as is, an integer or boolean one as text; else "".
std::string json_text(JsonObject *o, const char *name);
// An integer member > 0; else 0 (a string, a float, a negative number...).
guint64 json_id(JsonObject *o, const char *name);
// An object member; else nullptr.
JsonObject *json_object_member(JsonObject *o, const char *name);
// An array member; else nullptr.
JsonArray *json_array_member(JsonObject *o, const char *name);
// An object element; else nullptr.
JsonObject *json_object_element(JsonArray *a, guint i);

// "Janus error 458: No such session 123", the plugin's own error ("Janus
// error 433: ..."), "Janus error (no details)" for {"janus":"error"} with
// nothing readable; "" when `root` reports no error.
std::string janus_error(JsonObject *root);

// An asynchronous event as the API's user sees it.
JanusEvent janus_event(JsonObject *o);

} // namespace webrtcdirect
