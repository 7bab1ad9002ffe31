// Reading fields of DevTools and page messages, which are outside input: a
// missing member or one of another type reads as empty / 0, never aborts.
#pragma once

#include <json-glib/json-glib.h>

#include <string>

namespace browsercapture {

inline std::string member_string(JsonObject *o, const char *name)
{
    if (!o || !json_object_has_member(o, name))
        return "";
    JsonNode *n = json_object_get_member(o, name);
    return n && JSON_NODE_HOLDS_VALUE(n) && json_node_get_value_type(n) == G_TYPE_STRING ? json_node_get_string(n)
                                                                                         : "";
}

inline gint64 member_int(JsonObject *o, const char *name)
{
    if (!o || !json_object_has_member(o, name))
        return 0;
    JsonNode *n = json_object_get_member(o, name);
    return n && JSON_NODE_HOLDS_VALUE(n) && json_node_get_value_type(n) == G_TYPE_INT64 ? json_node_get_int(n) : 0;
}

} // namespace browsercapture
