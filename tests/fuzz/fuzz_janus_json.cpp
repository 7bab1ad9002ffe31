// Janus' answers and events (plugins/webrtc-direct/janus/janus_json.cpp): the
// depth-bounded parse, the error reading and the event reading, as the
// HTTP and WebSocket clients use them.
#include "../../plugins/webrtc-direct/janus/janus_json.hpp"

#include <cstddef>
#include <cstdint>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    using namespace webrtcdirect;
    JsonParser *parser = json_parser_new();
    JsonNode *root = parse_json(parser, reinterpret_cast<const char *>(data), size);
    if (root && JSON_NODE_HOLDS_OBJECT(root)) {
        JsonObject *o = json_node_get_object(root);
        janus_error(o);
        JanusEvent e = janus_event(o);
        json_text(o, "transaction");
        json_id(o, "session_id");
        if (JsonObject *d = json_object_member(o, "data"))
            json_id(d, "id");
        if (e.data)
            if (JsonArray *publishers = json_array_member(e.data, "publishers"))
                for (guint i = 0; i < json_array_get_length(publishers); ++i)
                    if (JsonObject *p = json_object_element(publishers, i))
                        json_text(p, "display");
    }
    g_object_unref(parser);
    return 0;
}
