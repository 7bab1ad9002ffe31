// signalling = "janus": the gateway in a Janus videoroom. It joins as a
// publisher (its feed: the SIP caller's media), subscribes to every other
// publisher's feed as they come and go (one subscriber handle per feed id),
// and destroys its Janus session when it stops. The node owns the WebRTC
// sessions and their media; this class only speaks the videoroom API.
#pragma once

#include "janus/janus_api.hpp"
#include "media/session.hpp"

#include <functional>
#include <map>
#include <memory>
#include <string>

namespace webrtcdirect {

class JanusRoom {
public:
    struct Settings {
        std::string url, token, room, pin, display;
        size_t max_feeds = 16; // feeds received at most
    };
    struct Host {
        std::function<void(const std::string &)> log;
        // Our feed: a session sending the caller's media that starts an offer.
        std::function<std::shared_ptr<Session>()> start_publishing;
        // A feed offered by Janus: a session answering `offer_sdp`, or
        // nullptr with `error` set.
        std::function<std::shared_ptr<Session>(const std::string &participant, const std::string &offer_sdp,
                                               std::string &error)>
            start_receiving;
        std::function<void(Session &, const std::string &reason)> feed_gone;
        std::function<void()> joined;
        std::function<void(const std::string &reason)> failed; // the room is lost for the gateway
        Fail fail_node; // an exception in a callback: the node fails (common/guard.hpp)
    };

    JanusRoom(Settings settings, Host host);
    ~JanusRoom();

    void join();
    // A session's SDP is ready: our offer (publish) or our answer to a feed (start).
    void local_sdp(Session &s, const std::string &sdp);
    bool is_our_feed(const Session &s) const { return publisher_.lock().get() == &s; }
    // Destroys the Janus session (every handle with it); `done` runs once
    // Janus answered, within the API's timeout.
    void leave(std::function<void()> done);

private:
    struct Feed {
        std::string participant;
        guint64 handle = 0;
        std::weak_ptr<Session> session;
    };

    void on_event(const JanusEvent &e);
    void on_publisher_event(const JanusEvent &e);
    void on_feed_event(guint64 feed, const JanusEvent &e);
    void subscribe(JsonArray *publishers);
    void subscribe(guint64 feed, const std::string &display);
    void remove_feed(guint64 feed, const std::string &reason);
    void fail(const std::string &reason);
    JsonNode *request(const char *what, std::initializer_list<std::pair<const char *, std::string>> fields = {},
                      guint64 feed = 0);

    Settings settings_;
    Host host_;
    std::unique_ptr<JanusApi> api_;
    guint64 publisher_handle_ = 0, our_id_ = 0;
    std::weak_ptr<Session> publisher_;
    std::map<guint64, Feed> feeds_; // by feed id
    guint join_timer_ = 0;
    bool joined_ = false, failed_ = false;
};

} // namespace webrtcdirect
