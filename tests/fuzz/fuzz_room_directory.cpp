// The room directory's readers of outside input
// (plugins/common/room_directory/): an HTTP directory's JSON answer, a key
// (dialled user, X-Room header, digits) against patterns, and a room table.
#include "../../plugins/common/room_directory/http_lookup.hpp"
#include "../../plugins/common/room_directory/patterns.hpp"
#include "../../plugins/common/room_directory/room_table.hpp"

#include <cstddef>
#include <cstdint>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    using namespace roomdir;
    const std::string text(reinterpret_cast<const char *>(data), size);
    room_from_json(text.data(), text.size());
    static const Patterns patterns({R"((?<room>\d{4})(?:\*(?<pin>\d{2,8}))?)", R"(room-(?<room>[a-z0-9]+))"});
    patterns.match(text);
    try {
        RoomTable::parse(text, "fuzz.toml");
    } catch (const TableError &) {
    }
    return 0;
}
