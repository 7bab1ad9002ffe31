// What a room directory knows of one room: where the call goes and with
// which credentials. Shared by the route and ivr plugins (a static library,
// plugins/common/meson.build); nothing here knows of the core.
#pragma once

#include <string>
#include <string_view>

namespace roomdir {

struct Room {
    std::string service; // which room node takes the call ("janus", "whip", ...): the pipeline decides
    std::string room;    // the room's id at that service
    std::string pin;     // secret: never logged ("" = none)
    std::string url;     // the service's URL for this room ("" = the pipeline's own)
    std::string display; // a display name for the caller ("" = the pipeline's own)
};

// The fields a pattern group, a table entry or a JSON answer may set.
inline constexpr const char *kRoomFields[] = {"service", "room", "pin", "url", "display"};
bool is_room_field(std::string_view name);
std::string *room_field(Room &room, std::string_view name);

// Values become other nodes' properties (a Janus request, a URL): at most
// 256 bytes of UTF-8 without control characters. "" when acceptable, else
// why not.
constexpr size_t kMaxValueBytes = 256;
std::string check_value(std::string_view value);

// The outcome of a lookup: a room, no such room (the directory answered
// that it does not know the key), or the directory could not answer.
struct Result {
    enum class Kind { Found, NotFound, Error } kind = Kind::NotFound;
    Room room;
    std::string reason; // NotFound / Error: why, for logs and the caller's Reason (never a PIN or token)
    std::string source; // which source answered: "pattern 2", "table rooms.toml", "http"

    static Result found(Room r, std::string from) { return {Kind::Found, std::move(r), "", std::move(from)}; }
    static Result not_found(std::string why) { return {Kind::NotFound, {}, std::move(why), ""}; }
    static Result error(std::string why) { return {Kind::Error, {}, std::move(why), ""}; }
};

} // namespace roomdir
