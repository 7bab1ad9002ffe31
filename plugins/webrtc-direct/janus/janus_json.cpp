#include "janus/janus_json.hpp"

#include "json_nesting.hpp"

#include <algorithm>

namespace webrtcdirect {
namespace {

JsonNode *value_member(JsonObject *o, const char *name)
{
    if (!o || !json_object_has_member(o, name))
        return nullptr;
    JsonNode *n = json_object_get_member(o, name);
    return n && JSON_NODE_HOLDS_VALUE(n) ? n : nullptr;
}

} // namespace

JsonNode *parse_json(JsonParser *parser, const char *data, gsize size)
{
    if (!data || mgwsupport::json_nesting(data, size, kMaxJsonDepth) > kMaxJsonDepth)
        return nullptr;
    if (!json_parser_load_from_data(parser, data, (gssize)size, nullptr))
        return nullptr;
    return json_parser_get_root(parser);
}

std::string json_text(JsonObject *o, const char *name)
{
    JsonNode *n = value_member(o, name);
    if (!n)
        return "";
    const GType type = json_node_get_value_type(n);
    if (type == G_TYPE_STRING)
        return json_node_get_string(n) ? json_node_get_string(n) : "";
    if (type == G_TYPE_INT64)
        return std::to_string(json_node_get_int(n));
    if (type == G_TYPE_BOOLEAN)
        return json_node_get_boolean(n) ? "true" : "false";
    return "";
}

guint64 json_id(JsonObject *o, const char *name)
{
    JsonNode *n = value_member(o, name);
    if (!n || json_node_get_value_type(n) != G_TYPE_INT64)
        return 0;
    const gint64 v = json_node_get_int(n);
    return v > 0 ? (guint64)v : 0;
}

JsonObject *json_object_member(JsonObject *o, const char *name)
{
    if (!o || !json_object_has_member(o, name))
        return nullptr;
    JsonNode *n = json_object_get_member(o, name);
    return n && JSON_NODE_HOLDS_OBJECT(n) ? json_node_get_object(n) : nullptr;
}

JsonArray *json_array_member(JsonObject *o, const char *name)
{
    if (!o || !json_object_has_member(o, name))
        return nullptr;
    JsonNode *n = json_object_get_member(o, name);
    return n && JSON_NODE_HOLDS_ARRAY(n) ? json_node_get_array(n) : nullptr;
}

JsonObject *json_object_element(JsonArray *a, guint i)
{
    if (!a || i >= json_array_get_length(a))
        return nullptr;
    JsonNode *n = json_array_get_element(a, i);
    return n && JSON_NODE_HOLDS_OBJECT(n) ? json_node_get_object(n) : nullptr;
}

std::string janus_error(JsonObject *root)
{
    if (JsonObject *e = json_object_member(root, "error"))
        return "Janus error " + json_text(e, "code") + ": " + json_text(e, "reason");
    JsonObject *data = json_object_member(json_object_member(root, "plugindata"), "data");
    if (data && json_object_has_member(data, "error_code"))
        return "Janus error " + json_text(data, "error_code") + ": " + json_text(data, "error");
    if (json_text(root, "janus") == "error")
        return "Janus error (no details)";
    return "";
}

JanusEvent janus_event(JsonObject *o)
{
    JanusEvent e;
    e.type = json_text(o, "janus");
    e.handle = json_id(o, "sender");
    e.data = json_object_member(json_object_member(o, "plugindata"), "data");
    if (JsonObject *jsep = json_object_member(o, "jsep")) {
        e.jsep_type = json_text(jsep, "type");
        e.jsep_sdp = json_text(jsep, "sdp");
    }
    e.reason = json_text(o, "reason");
    return e;
}

} // namespace webrtcdirect
