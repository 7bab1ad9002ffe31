#include "janus/janus_room.hpp"

#include <algorithm>
#include <cctype>

namespace webrtcdirect {

namespace {

constexpr const char *videoroom = "janus.plugin.videoroom";
constexpr guint join_timeout_s = 10;

// Rooms are numbers unless Janus runs with string_ids.
void add_room(JsonBuilder *b, const std::string &room)
{
    json_builder_set_member_name(b, "room");
    if (!room.empty() && std::all_of(room.begin(), room.end(), ::isdigit) && room.size() < 19)
        json_builder_add_int_value(b, std::stoll(room));
    else
        json_builder_add_string_value(b, room.c_str());
}

} // namespace

JanusRoom::JanusRoom(Settings settings, Host host) : settings_(std::move(settings)), host_(std::move(host))
{
    api_ = std::make_unique<JanusApi>(
        settings_.url, settings_.token, [this](const JanusEvent &e) { on_event(e); },
        [this](const std::string &reason) { fail(reason); }, host_.fail_node, 5);
}

JanusRoom::~JanusRoom()
{
    if (join_timer_)
        g_source_remove(join_timer_);
}

// {"request": what, "room": R, "pin": P, fields..., "streams": [{"feed": F}]}
JsonNode *JanusRoom::request(const char *what, std::initializer_list<std::pair<const char *, std::string>> fields,
                             guint64 feed)
{
    JsonBuilder *b = json_builder_new();
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "request");
    json_builder_add_string_value(b, what);
    add_room(b, settings_.room);
    if (!settings_.pin.empty()) {
        json_builder_set_member_name(b, "pin");
        json_builder_add_string_value(b, settings_.pin.c_str());
    }
    for (const auto &[name, value] : fields) {
        json_builder_set_member_name(b, name);
        json_builder_add_string_value(b, value.c_str());
    }
    if (feed) {
        json_builder_set_member_name(b, "streams");
        json_builder_begin_array(b);
        json_builder_begin_object(b);
        json_builder_set_member_name(b, "feed");
        json_builder_add_int_value(b, (gint64)feed);
        json_builder_end_object(b);
        json_builder_end_array(b);
    }
    json_builder_end_object(b);
    JsonNode *node = json_builder_get_root(b);
    g_object_unref(b);
    return node;
}

void JanusRoom::join()
{
    join_timer_ = g_timeout_add_seconds(join_timeout_s, [](gpointer self) {
        auto *room = static_cast<JanusRoom *>(self);
        room->join_timer_ = 0;
        guarded(room->host_.fail_node, "Janus join timer", [room] {
            room->fail("no answer from Janus within " + std::to_string(join_timeout_s) + " s of joining room " +
                       room->settings_.room);
        });
        return G_SOURCE_REMOVE;
    }, this);
    // Each step checks failed_: leave() may come while a request is out.
    api_->create([this](const std::string &error) {
        if (failed_)
            return;
        if (!error.empty())
            return fail("cannot create a Janus session at " + settings_.url + ": " + error);
        api_->attach(videoroom, [this](guint64 handle, const std::string &error) {
            if (failed_)
                return;
            if (!error.empty())
                return fail("cannot attach to the videoroom plugin: " + error);
            publisher_handle_ = handle;
            api_->message(handle, request("join", {{"ptype", "publisher"}, {"display", settings_.display}}),
                          [this](JsonObject *, const std::string &error) {
                              if (!failed_ && !error.empty())
                                  fail("Janus refused to join room " + settings_.room + ": " + error);
                          });
        });
    });
}

void JanusRoom::on_event(const JanusEvent &e)
{
    if (failed_) // the room is lost or we are leaving: nothing more to do with it
        return;
    if (e.handle && e.handle == publisher_handle_)
        return on_publisher_event(e);
    for (auto &[feed, f] : feeds_)
        if (f.handle == e.handle)
            return on_feed_event(feed, e);
    if (e.type == "timeout")
        fail("Janus timed our session out");
}

void JanusRoom::on_publisher_event(const JanusEvent &e)
{
    if (e.type == "hangup")
        return fail("Janus hung up our feed" + (e.reason.empty() ? "" : ": " + e.reason));
    if (e.type == "webrtcup")
        return host_.log("janus: our feed is up in room " + settings_.room);
    if (!e.data)
        return;
    const std::string kind = json_text(e.data, "videoroom");
    if (kind == "destroyed")
        return fail("room " + settings_.room + " was destroyed");
    if (json_object_has_member(e.data, "error_code")) {
        const std::string why = "Janus error " + json_text(e.data, "error_code") + ": " + json_text(e.data, "error");
        return fail(joined_ ? why : "Janus refused to join room " + settings_.room + ": " + why);
    }
    if (kind == "joined") {
        if (join_timer_)
            g_source_remove(join_timer_);
        join_timer_ = 0;
        joined_ = true;
        our_id_ = json_id(e.data, "id");
        host_.log("janus: joined room " + settings_.room + " as feed " + std::to_string(our_id_));
        host_.joined();
        publisher_ = host_.start_publishing();
    }
    if (!e.jsep_sdp.empty() && e.jsep_type == "answer")
        if (auto s = publisher_.lock())
            s->apply_answer(e.jsep_sdp);
    if (JsonArray *publishers = json_array_member(e.data, "publishers"))
        subscribe(publishers);
    for (const char *gone : {"unpublished", "leaving"}) {
        const guint64 feed = json_id(e.data, gone); // "ok" (a string) when it is about us
        if (feed && feeds_.count(feed))
            remove_feed(feed, std::string(gone) == "leaving" ? "left the room" : "stopped publishing");
    }
}

void JanusRoom::subscribe(JsonArray *publishers)
{
    for (guint i = 0; i < json_array_get_length(publishers); ++i) {
        JsonObject *p = json_object_element(publishers, i); // nullptr (skipped) when not an object
        const guint64 feed = json_id(p, "id");
        if (!feed || feed == our_id_ || feeds_.count(feed))
            continue;
        if (feeds_.size() >= settings_.max_feeds) {
            host_.log("janus: feed " + std::to_string(feed) + " not received: already " +
                      std::to_string(feeds_.size()) + " (max_participants)");
            continue;
        }
        subscribe(feed, json_text(p, "display"));
    }
}

// One subscriber handle per feed: a feed leaving is one handle gone.
void JanusRoom::subscribe(guint64 feed, const std::string &display)
{
    std::string participant = display.empty() ? "feed " + std::to_string(feed) : display;
    for (auto &[id, f] : feeds_)
        if (f.participant == participant)
            participant += " (" + std::to_string(feed) + ")";
    feeds_[feed].participant = participant;
    host_.log("janus: subscribing to feed " + std::to_string(feed) + " (" + participant + ")");
    api_->attach(videoroom, [this, feed](guint64 handle, const std::string &error) {
        if (!feeds_.count(feed)) { // it left while we attached
            if (handle)
                api_->detach(handle);
            return;
        }
        if (!error.empty()) {
            host_.log("janus: cannot subscribe to feed " + std::to_string(feed) + ": " + error);
            feeds_.erase(feed);
            return;
        }
        feeds_[feed].handle = handle;
        JsonNode *body = request("join", {{"ptype", "subscriber"}}, feed);
        api_->message(handle, body, [this, feed](JsonObject *, const std::string &error) {
            if (!error.empty())
                remove_feed(feed, "Janus refused the subscription: " + error);
        });
    });
}

void JanusRoom::on_feed_event(guint64 feed, const JanusEvent &e)
{
    if (e.type == "hangup")
        return remove_feed(feed, "Janus hung up" + (e.reason.empty() ? "" : ": " + e.reason));
    if (!e.data)
        return;
    if (json_text(e.data, "videoroom") == "destroyed")
        return fail("room " + settings_.room + " was destroyed");
    if (json_object_has_member(e.data, "error_code"))
        return remove_feed(feed, "Janus error " + json_text(e.data, "error_code") + ": " + json_text(e.data, "error"));
    if (e.jsep_type == "offer") {
        Feed &f = feeds_[feed];
        if (f.session.lock()) {
            // "updated": the publisher's streams changed (Janus also sends
            // one just before "unpublished"). The session keeps what it has.
            host_.log("janus: feed " + std::to_string(feed) + " renegotiates; its current streams are kept");
            return;
        }
        std::string error;
        auto s = host_.start_receiving(f.participant, e.jsep_sdp, error);
        if (!s)
            return remove_feed(feed, "its offer cannot be answered: " + error);
        f.session = s;
    }
}

void JanusRoom::local_sdp(Session &s, const std::string &sdp)
{
    if (is_our_feed(s)) {
        JsonBuilder *b = json_builder_new();
        json_builder_begin_object(b);
        json_builder_set_member_name(b, "request");
        json_builder_add_string_value(b, "publish");
        json_builder_end_object(b);
        JsonNode *body = json_builder_get_root(b);
        g_object_unref(b);
        api_->message(publisher_handle_, body, [this](JsonObject *, const std::string &error) {
            if (!error.empty())
                fail("Janus refused our feed: " + error);
        }, "offer", sdp);
        return;
    }
    for (auto &[feed, f] : feeds_)
        if (f.session.lock().get() == &s) {
            const guint64 id = feed;
            api_->message(f.handle, request("start"), [this, id](JsonObject *, const std::string &error) {
                if (!error.empty())
                    remove_feed(id, "Janus refused our answer: " + error);
            }, "answer", sdp);
            return;
        }
}

void JanusRoom::remove_feed(guint64 feed, const std::string &reason)
{
    auto it = feeds_.find(feed);
    if (it == feeds_.end())
        return;
    Feed f = it->second;
    feeds_.erase(it);
    host_.log("janus: feed " + std::to_string(feed) + " (" + f.participant + ") " + reason);
    if (f.handle)
        api_->detach(f.handle);
    if (auto s = f.session.lock())
        host_.feed_gone(*s, reason);
}

void JanusRoom::fail(const std::string &reason)
{
    if (failed_)
        return;
    failed_ = true;
    if (join_timer_)
        g_source_remove(join_timer_);
    join_timer_ = 0;
    host_.failed(reason); // may destroy this object
}

void JanusRoom::leave(std::function<void()> done)
{
    if (join_timer_)
        g_source_remove(join_timer_);
    join_timer_ = 0;
    failed_ = true; // what Janus says from now on is about our own leaving
    api_->destroy(std::move(done));
}

} // namespace webrtcdirect
