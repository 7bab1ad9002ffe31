// route: picks the call's room when the call arrives. Started on the call
// (start_on = "sip/call.incoming"), it looks its `key` up (normally
// "${sip.user}", the dialled user, or "${sip.header.x-room}") in the room
// directory (plugins/common/room_directory: a table file, patterns, an
// HTTP service) and publishes the room as values (${route.room},
// ${route.pin}, ...) before it emits route.found, on which the room nodes
// start; or it emits route.failed with a reason, on which sip-sofia
// refuses the call (hangup_on; answer_on = ["route/route.found"] keeps the
// INVITE unanswered until then). No media ports.
#include "room_directory/node_properties.hpp"

#include <mediagw/node.hpp>

#include <algorithm>
#include <memory>

namespace {

constexpr mgw_property_spec properties[] = {
    mediagw::prop::list("key", nullptr,
                        "what is looked up, with call-time values: the first item that is not empty, e.g. "
                        "[\"${sip.header.x-room:-}\", \"${sip.user}\"] (an X-Room header, else the dialled user); "
                        "all empty: no such room",
                        mediagw::prop::required),
    ROOM_DIRECTORY_PROPERTIES,
    mediagw::prop::list("services", nullptr,
                        "the services this pipeline has rooms for (empty: any); a room of another service is "
                        "route.failed"),
};

class Route : public mediagw::Node {
public:
    explicit Route(const mgw_node_init *init) : Node(init)
    {
        try {
            directory_ = std::make_unique<roomdir::RoomDirectory>(roomdir::directory_settings(
                [this](const char *k) { return str(k); }, [this](const char *k) { return list(k); },
                [this](const char *k) { return integer(k); }));
        } catch (const mediagw::Error &) {
            throw;
        } catch (const std::exception &e) {
            throw mediagw::Error(e.what());
        }
        if (directory_->empty())
            throw mediagw::Error("no room source: set table, patterns or lookup_url");
        log(MGW_LOG_INFO, "rooms from %s", directory_->describe().c_str());
    }

    bool start(std::string &) override
    {
        if (const std::string broken = directory_->refresh(); !broken.empty())
            log(MGW_LOG_ERROR, "the room table no longer loads, keeping the last good one:\n%s", broken.c_str());
        std::string key;
        for (const std::string &k : list("key"))
            if (!k.empty()) {
                key = k;
                break;
            }
        live_ = true;
        directory_->lookup(key, [this, key](const roomdir::Result &r) {
            try {
                answer(key, r);
            } catch (const std::exception &e) {
                fail(std::string("route: ") + e.what());
            }
        });
        return true;
    }

    void stop() override
    {
        live_ = false;
        directory_->cancel();
        stopped();
    }

private:
    void answer(const std::string &key, const roomdir::Result &r)
    {
        if (!live_)
            return;
        if (r.kind != roomdir::Result::Kind::Found)
            return refuse(key, r.kind == roomdir::Result::Kind::NotFound ? "no such room" : "room directory unavailable",
                          r.reason);
        const auto allowed = list("services");
        if (!allowed.empty() && std::find(allowed.begin(), allowed.end(), r.room.service) == allowed.end())
            return refuse(key, "room service '" + r.room.service + "' is not served here", "");
        log(MGW_LOG_INFO, "key '%s': room %s at %s (%s%s)", key.c_str(), r.room.room.c_str(),
            r.room.service.empty() ? "(no service)" : r.room.service.c_str(), r.source.c_str(),
            r.room.pin.empty() ? "" : ", with a PIN");
        // The values first: the nodes starting on route.found read them.
        publish_values(gst_structure_new("values", "key", G_TYPE_STRING, key.c_str(), "service", G_TYPE_STRING,
                                         r.room.service.c_str(), "room", G_TYPE_STRING, r.room.room.c_str(), "pin",
                                         G_TYPE_STRING, r.room.pin.c_str(), "url", G_TYPE_STRING, r.room.url.c_str(),
                                         "display", G_TYPE_STRING, r.room.display.c_str(), nullptr));
        emit(gst_structure_new("route.found", "room", G_TYPE_STRING, r.room.room.c_str(), "service", G_TYPE_STRING,
                               r.room.service.c_str(), "source", G_TYPE_STRING, r.source.c_str(), nullptr));
    }

    // `reason` goes to the caller (the Reason header); `detail` (which directory said what) to the log only.
    void refuse(const std::string &key, const std::string &reason, const std::string &detail)
    {
        if (detail.empty() || detail == reason)
            log(MGW_LOG_INFO, "key '%s': %s", key.c_str(), reason.c_str());
        else
            log(MGW_LOG_INFO, "key '%s': %s (%s)", key.c_str(), reason.c_str(), detail.c_str());
        emit(gst_structure_new("route.failed", "reason", G_TYPE_STRING, reason.c_str(), "key", G_TYPE_STRING,
                               key.c_str(), nullptr));
    }

    std::unique_ptr<roomdir::RoomDirectory> directory_;
    bool live_ = false;
};

} // namespace

MEDIAGW_PLUGIN_VALUES(Route, "route", "0.1.0",
                      "picks the call's room from a key (dialled user, X-Room header) through a room directory",
                      nullptr, "route.found,route.failed", "key,service,room,pin,url,display", properties, nullptr);
