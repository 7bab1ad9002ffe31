#include "serve/status_json.hpp"

#include <json-glib/json-glib.h>

namespace webrtcdirect {

std::string status_json(const RoomStatus &status)
{
    // json-glib escapes quotes and control characters but copies bytes: the
    // string must be valid UTF-8 first.
    gchar *caller = g_utf8_make_valid(status.caller.data(), (gssize)status.caller.size());
    JsonBuilder *b = json_builder_new();
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "call");
    json_builder_add_string_value(b, status.active ? "active" : "waiting");
    json_builder_set_member_name(b, "caller");
    json_builder_add_string_value(b, caller);
    json_builder_set_member_name(b, "participants");
    json_builder_add_int_value(b, (gint64)status.participants);
    json_builder_set_member_name(b, "sessions");
    json_builder_add_int_value(b, (gint64)status.sessions);
    json_builder_end_object(b);
    JsonNode *root = json_builder_get_root(b);
    gchar *text = json_to_string(root, FALSE);
    std::string out = text;
    g_free(text);
    json_node_unref(root);
    g_object_unref(b);
    g_free(caller);
    return out;
}

} // namespace webrtcdirect
