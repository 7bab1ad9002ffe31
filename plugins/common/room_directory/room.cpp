#include "room_directory/room.hpp"

#include <glib.h>

namespace roomdir {

bool is_room_field(std::string_view name)
{
    for (const char *f : kRoomFields)
        if (name == f)
            return true;
    return false;
}

std::string *room_field(Room &room, std::string_view name)
{
    if (name == "service")
        return &room.service;
    if (name == "room")
        return &room.room;
    if (name == "pin")
        return &room.pin;
    if (name == "url")
        return &room.url;
    if (name == "display")
        return &room.display;
    return nullptr;
}

std::string check_value(std::string_view value)
{
    if (value.size() > kMaxValueBytes)
        return "longer than " + std::to_string(kMaxValueBytes) + " bytes";
    if (!g_utf8_validate(value.data(), static_cast<gssize>(value.size()), nullptr))
        return "not UTF-8";
    for (unsigned char c : value)
        if (c < 0x20 || c == 0x7f)
            return "has a control character";
    return "";
}

} // namespace roomdir
