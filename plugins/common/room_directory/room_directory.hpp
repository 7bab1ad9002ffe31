// The room directory: which room a key (digits typed, the dialled user, an
// X-Room header) stands for. Its sources are asked in this order, the
// first that knows the key answers: the table file, the patterns, the
// HTTP service. A source that does not know the key passes it on; the HTTP
// service's 404 and errors are final.
#pragma once

#include "room_directory/http_lookup.hpp"
#include "room_directory/patterns.hpp"
#include "room_directory/room_table.hpp"

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace roomdir {

struct DirectorySettings {
    std::vector<std::string> patterns;
    std::string table;   // a TOML file's path; "" = none
    HttpSettings http;   // http.url "" = none
    std::string service; // the service of rooms whose source names none
};

class RoomDirectory {
public:
    // Throws std::invalid_argument (a pattern, the URL) or TableError.
    explicit RoomDirectory(const DirectorySettings &settings);

    bool empty() const { return !table_ && patterns_.empty() && !http_; }
    // "table rooms.toml (12 rooms), 2 patterns, http https://dir.example.org/rooms": for the log.
    std::string describe() const;

    // `done` runs inside lookup() when the table or a pattern answers,
    // later on the main loop when the HTTP service does. One lookup at a
    // time: a new one (or cancel()) drops the previous one's answer.
    using Done = std::function<void(const Result &)>;
    void lookup(const std::string &key, Done done);
    void cancel();

    // Re-reads the table when its file changed since it was read (the
    // owner calls it before a call's lookups). A file that no longer
    // loads keeps the old table; the errors are returned ("" when fine).
    std::string refresh();

private:
    Result finish(Result r) const;

    std::string table_path_;
    std::optional<RoomTable> table_;
    gint64 table_mtime_ = 0;
    Patterns patterns_;
    std::unique_ptr<HttpLookup> http_;
    std::string service_;
};

} // namespace roomdir
