#include "control_channel.hpp"

#include "gateway.hpp"
#include "log.hpp"

#include <json-glib/json-glib.h>

#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace mediagw {

namespace {

std::string to_json(JsonBuilder *b)
{
    JsonNode *root = json_builder_get_root(b);
    gchar *text = json_to_string(root, FALSE);
    std::string out = text;
    g_free(text);
    json_node_unref(root);
    return out;
}

void add_field(JsonBuilder *b, const char *name, const GValue *v)
{
    json_builder_set_member_name(b, name);
    switch (G_VALUE_TYPE(v)) {
    case G_TYPE_STRING: json_builder_add_string_value(b, g_value_get_string(v) ? g_value_get_string(v) : ""); break;
    case G_TYPE_INT: json_builder_add_int_value(b, g_value_get_int(v)); break;
    case G_TYPE_UINT: json_builder_add_int_value(b, g_value_get_uint(v)); break;
    case G_TYPE_INT64: json_builder_add_int_value(b, g_value_get_int64(v)); break;
    case G_TYPE_UINT64: json_builder_add_int_value(b, (gint64)g_value_get_uint64(v)); break;
    case G_TYPE_BOOLEAN: json_builder_add_boolean_value(b, g_value_get_boolean(v)); break;
    case G_TYPE_DOUBLE: json_builder_add_double_value(b, g_value_get_double(v)); break;
    default: {
        gchar *s = gst_value_serialize(v);
        json_builder_add_string_value(b, s ? s : "");
        g_free(s);
    }
    }
}

// A JSON value as the GValue an event field gets: strings, integers,
// numbers and booleans; anything else is refused.
bool set_field(GstStructure *s, const char *name, JsonNode *n)
{
    if (!JSON_NODE_HOLDS_VALUE(n))
        return false;
    switch (json_node_get_value_type(n)) {
    case G_TYPE_STRING: gst_structure_set(s, name, G_TYPE_STRING, json_node_get_string(n), nullptr); return true;
    case G_TYPE_INT64: gst_structure_set(s, name, G_TYPE_INT, (gint)json_node_get_int(n), nullptr); return true;
    case G_TYPE_DOUBLE: gst_structure_set(s, name, G_TYPE_DOUBLE, json_node_get_double(n), nullptr); return true;
    case G_TYPE_BOOLEAN: gst_structure_set(s, name, G_TYPE_BOOLEAN, json_node_get_boolean(n), nullptr); return true;
    default: return false;
    }
}

// An event name as the bus carries them: "dtmf.send".
bool valid_event_name(const char *name)
{
    if (!name || !g_ascii_isalpha(name[0]) || strlen(name) > 64)
        return false;
    for (const char *c = name; *c; ++c)
        if (!g_ascii_isalnum(*c) && *c != '.' && *c != '-' && *c != '_')
            return false;
    return true;
}

} // namespace

ControlChannel::ControlChannel(int fd) : fd_(fd) {}

ControlChannel::~ControlChannel()
{
    if (watch_)
        g_source_remove(watch_);
    if (channel_)
        g_io_channel_unref(channel_);
    if (fd_ >= 0)
        close(fd_);
}

std::string ControlChannel::event_line(const std::string &node, const GstStructure *event)
{
    JsonBuilder *b = json_builder_new();
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "node");
    json_builder_add_string_value(b, node.c_str());
    json_builder_set_member_name(b, "event");
    json_builder_add_string_value(b, gst_structure_get_name(event));
    json_builder_set_member_name(b, "fields");
    json_builder_begin_object(b);
    for (int i = 0; i < gst_structure_n_fields(event); ++i) {
        const char *name = gst_structure_nth_field_name(event, i);
        add_field(b, name, gst_structure_get_value(event, name));
    }
    json_builder_end_object(b);
    json_builder_end_object(b);
    std::string out = to_json(b);
    g_object_unref(b);
    return out;
}

void ControlChannel::attach(Gateway &gateway)
{
    gateway_ = &gateway;
    gateway.on_event = [this](const std::string &node, const GstStructure *event) { send(event_line(node, event)); };
    gateway.on_ready = [this, &gateway] {
        JsonBuilder *b = json_builder_new();
        json_builder_begin_object(b);
        json_builder_set_member_name(b, "event");
        json_builder_add_string_value(b, "ready");
        json_builder_set_member_name(b, "gateway");
        json_builder_add_string_value(b, gateway.name().c_str());
        json_builder_set_member_name(b, "pid");
        json_builder_add_int_value(b, getpid());
        json_builder_end_object(b);
        send(to_json(b));
        g_object_unref(b);
    };
    channel_ = g_io_channel_unix_new(fd_);
    watch_ = g_io_add_watch(channel_, GIOCondition(G_IO_IN | G_IO_HUP | G_IO_ERR), on_readable, this);
}

void ControlChannel::send_exit(int code, const std::string &reason)
{
    JsonBuilder *b = json_builder_new();
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "event");
    json_builder_add_string_value(b, "exit");
    json_builder_set_member_name(b, "code");
    json_builder_add_int_value(b, code);
    json_builder_set_member_name(b, "reason");
    json_builder_add_string_value(b, reason.c_str());
    json_builder_end_object(b);
    send(to_json(b));
    g_object_unref(b);
}

// Blocking: the supervisor reads every line at once. MSG_NOSIGNAL: a
// supervisor that is gone must not kill us with SIGPIPE.
void ControlChannel::send(const std::string &line)
{
    std::string out = line + "\n";
    size_t done = 0;
    while (done < out.size()) {
        ssize_t n = ::send(fd_, out.data() + done, out.size() - done, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return; // the channel is gone; on_readable() sees the hang-up
        done += size_t(n);
    }
}

gboolean ControlChannel::on_readable(GIOChannel *, GIOCondition cond, gpointer data)
{
    auto self = static_cast<ControlChannel *>(data);
    char buf[4096];
    ssize_t n = (cond & G_IO_IN) ? read(self->fd_, buf, sizeof buf) : 0;
    if (n < 0 && (errno == EINTR || errno == EAGAIN))
        return G_SOURCE_CONTINUE;
    if (n <= 0) {
        self->watch_ = 0;
        log(MGW_LOG_WARNING, "control", "the control channel closed: stopping");
        self->gateway_->stop("control channel closed (the supervisor is gone)", 0);
        return G_SOURCE_REMOVE;
    }
    for (ssize_t i = 0; i < n; ++i) {
        if (buf[i] == '\n') {
            if (!self->discarding_) {
                try {
                    self->handle_line(self->inbox_);
                } catch (...) { // nothing thrown crosses GLib's frame
                    log(MGW_LOG_ERROR, "control", "a command failed");
                }
            }
            self->inbox_.clear();
            self->discarding_ = false;
        } else if (!self->discarding_) {
            if (self->inbox_.size() >= kMaxLine) {
                log(MGW_LOG_WARNING, "control", "a command line longer than 16 KiB: dropped");
                self->inbox_.clear();
                self->discarding_ = true;
            } else {
                self->inbox_ += buf[i];
            }
        }
    }
    return G_SOURCE_CONTINUE;
}

void ControlChannel::handle_line(const std::string &line)
{
    JsonParser *parser = json_parser_new();
    GError *err = nullptr;
    auto bad = [&](const std::string &why) { log(MGW_LOG_WARNING, "control", "command ignored: " + why); };
    if (!json_parser_load_from_data(parser, line.data(), (gssize)line.size(), &err)) {
        bad(std::string("not JSON: ") + err->message);
        g_error_free(err);
        g_object_unref(parser);
        return;
    }
    JsonNode *root = json_parser_get_root(parser);
    JsonObject *o = root && JSON_NODE_HOLDS_OBJECT(root) ? json_node_get_object(root) : nullptr;
    // Missing or of another type: nullptr (no GLib criticals on hostile input).
    auto text = [o](const char *member) {
        return o ? json_object_get_string_member_with_default(o, member, nullptr) : nullptr;
    };
    const char *command = text("command"), *reason = text("reason");
    if (!command) {
        bad("no \"command\"");
    } else if (g_str_equal(command, "stop")) {
        gateway_->stop(std::string("stopped by the supervisor") + (reason ? std::string(": ") + reason : ""), 0);
    } else if (g_str_equal(command, "event")) {
        const char *name = text("name");
        JsonNode *fields_node = json_object_get_member(o, "fields");
        JsonObject *fields =
            fields_node && JSON_NODE_HOLDS_OBJECT(fields_node) ? json_node_get_object(fields_node) : nullptr;
        if (!valid_event_name(name)) {
            bad("\"event\" needs a \"name\" such as \"dtmf.send\"");
        } else {
            GstStructure *event = gst_structure_new_empty(name);
            bool ok = true;
            if (fields) {
                GList *members = json_object_get_members(fields);
                for (GList *m = members; m; m = m->next) {
                    const char *field = static_cast<const char *>(m->data);
                    if (!set_field(event, field, json_object_get_member(fields, field))) {
                        bad(std::string("field \"") + field + "\" is not a string, number or boolean");
                        ok = false;
                    }
                }
                g_list_free(members);
            }
            if (ok)
                gateway_->inject("control", event);
            else
                gst_structure_free(event);
        }
    } else {
        bad(std::string("unknown command \"") + command + "\"");
    }
    g_object_unref(parser);
}

} // namespace mediagw
