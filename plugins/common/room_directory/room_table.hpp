// Rooms from a table file (TOML), one table per key:
//
//   [room."1234"]          # the key: digits typed, the dialled user, an X-Room value
//   pin = "4321"           # optional; strings only (a PIN's leading zeros matter)
//   service = "janus"      # optional: the node's `service` when absent
//   room = "1234"          # optional: the key when absent
//   url = "https://janus.example.org/janus"   # optional
//   display = "Phone"      # optional
//
// Every error of a file is reported at once, each as "FILE:LINE:COL: error: ...".
#pragma once

#include "room_directory/room.hpp"

#include <map>
#include <stdexcept>
#include <string>

namespace roomdir {

struct TableError : std::runtime_error {
    using std::runtime_error::runtime_error; // what(): one line per error
};

class RoomTable {
public:
    // Throws TableError (unreadable file, TOML syntax, unknown keys, wrong types, bad values).
    static RoomTable load(const std::string &path);
    static RoomTable parse(const std::string &text, const std::string &path_for_errors);

    const Room *find(const std::string &key) const;
    size_t size() const { return rooms_.size(); }

private:
    std::map<std::string, Room> rooms_;
};

} // namespace roomdir
