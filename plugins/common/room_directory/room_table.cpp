#include "room_directory/room_table.hpp"

#include <toml++/toml.h>

#include <fstream>
#include <sstream>
#include <vector>

namespace roomdir {
namespace {

constexpr size_t kMaxFileBytes = 16 * 1024 * 1024;

struct Errors {
    std::string path;
    std::vector<std::string> lines;

    void add(const toml::source_region &at, const std::string &message)
    {
        lines.push_back(path + ":" + std::to_string(at.begin.line) + ":" + std::to_string(at.begin.column) +
                        ": error: " + message);
    }
    [[noreturn]] void raise() const
    {
        std::string text;
        for (const auto &l : lines)
            text += (text.empty() ? "" : "\n") + l;
        throw TableError(text);
    }
};

} // namespace

RoomTable RoomTable::load(const std::string &path)
{
    std::ifstream in(path, std::ios::binary);
    if (!in)
        throw TableError(path + ": error: cannot read the room table");
    std::string text;
    char buf[64 * 1024];
    while (in.read(buf, sizeof buf) || in.gcount() > 0) {
        text.append(buf, static_cast<size_t>(in.gcount()));
        if (text.size() > kMaxFileBytes)
            throw TableError(path + ": error: the room table is over 16 MiB");
    }
    return parse(text, path);
}

RoomTable RoomTable::parse(const std::string &text, const std::string &path)
{
    Errors errors{path, {}};
    toml::table root;
    try {
        root = toml::parse(text, path);
    } catch (const toml::parse_error &e) {
        errors.add(e.source(), std::string(e.description()));
        errors.raise();
    }
    RoomTable table;
    for (const auto &[top, value] : root) {
        if (top.str() != "room") {
            errors.add(top.source(), "unknown table '" + std::string(top.str()) + "' (rooms go in [room.\"KEY\"])");
            continue;
        }
        const toml::table *rooms = value.as_table();
        if (!rooms) {
            errors.add(value.source(), "room must be a table of rooms: [room.\"KEY\"]");
            continue;
        }
        for (const auto &[key, entry] : *rooms) {
            const std::string name = "room \"" + std::string(key.str()) + "\"";
            if (const std::string bad = check_value(key.str()); !bad.empty() || key.str().empty()) {
                errors.add(key.source(), name + ": the key is " + (bad.empty() ? "empty" : bad));
                continue;
            }
            const toml::table *fields = entry.as_table();
            if (!fields) {
                errors.add(entry.source(), name + " must be a table ([room.\"" + std::string(key.str()) + "\"])");
                continue;
            }
            Room room;
            room.room = std::string(key.str());
            for (const auto &[field, v] : *fields) {
                std::string *slot = room_field(room, field.str());
                if (!slot) {
                    errors.add(field.source(), name + ": unknown key '" + std::string(field.str()) +
                                                   "' (known: service, room, pin, url, display)");
                    continue;
                }
                const toml::value<std::string> *s = v.as_string();
                if (!s) {
                    errors.add(v.source(), name + ": " + std::string(field.str()) + " must be a string" +
                                               (v.is_integer() ? " (quote it: \"0042\" keeps its zeros)" : ""));
                    continue;
                }
                if (const std::string bad = check_value(s->get()); !bad.empty()) {
                    errors.add(v.source(), name + ": " + std::string(field.str()) + " is " + bad);
                    continue;
                }
                if (s->get().empty() && field.str() == "room") {
                    errors.add(v.source(), name + ": room must not be empty");
                    continue;
                }
                *slot = s->get();
            }
            table.rooms_[std::string(key.str())] = std::move(room);
        }
    }
    if (!errors.lines.empty())
        errors.raise();
    return table;
}

const Room *RoomTable::find(const std::string &key) const
{
    auto it = rooms_.find(key);
    return it == rooms_.end() ? nullptr : &it->second;
}

} // namespace roomdir
