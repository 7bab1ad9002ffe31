// The room directory's node properties, shared by the route and ivr
// plugins: both schemas list ROOM_DIRECTORY_PROPERTIES and build their
// directory with directory_settings().
#pragma once

#include "room_directory/room_directory.hpp"

#include <mediagw/node.hpp>

#define ROOM_DIRECTORY_PROPERTIES                                                                                    \
    mediagw::prop::list("patterns", nullptr,                                                                          \
                        "regular expressions (PCRE) over the key, tried in order after the table; the first that "    \
                        "matches the whole key wins and its named groups set the room: room, pin, service, url, "     \
                        "display (no room group: the room is the key), e.g. '(?<room>\\d{4})(?:\\*(?<pin>\\d+))?'"), \
        mediagw::prop::string("table", "",                                                                            \
                              "a TOML room table asked first: [room.\"KEY\"] with pin, service, room (default: the "  \
                              "key), url, display, all strings; read again when the file changes (a broken file "     \
                              "keeps the last good table, logged)"),                                                  \
        mediagw::prop::string("lookup_url", "",                                                                       \
                              "an HTTP(S) directory asked last: GET URL?key=KEY, 200 with JSON {room, pin, service, " \
                              "url, display} (room and pin may be numbers) is the room, 404 no such room, anything "  \
                              "else an error; at most 64 KiB read, redirects followed within the URL's origin only"), \
        mediagw::prop::string("lookup_token", "", "bearer token for lookup_url (never logged)",                      \
                              mediagw::prop::secret),                                                                 \
        mediagw::prop::integer("lookup_timeout_ms", "3000", "milliseconds the HTTP lookup may take in all"),          \
        mediagw::prop::string("service", "",                                                                          \
                              "the service of rooms whose source names none (e.g. janus), published as the value "    \
                              "`service`")

namespace roomdir {

// `get` reads a property of the node: (name) -> string / list / integer.
template <typename Str, typename List, typename Int>
DirectorySettings directory_settings(Str str, List list, Int integer)
{
    DirectorySettings s;
    s.patterns = list("patterns");
    s.table = str("table");
    s.http.url = str("lookup_url");
    s.http.token = str("lookup_token");
    const auto timeout = integer("lookup_timeout_ms");
    if (timeout < 1 || timeout > 60000)
        throw mediagw::Error("lookup_timeout_ms must be 1 to 60000");
    s.http.timeout_ms = static_cast<unsigned>(timeout);
    s.service = str("service");
    return s;
}

} // namespace roomdir
