// Rooms from patterns: regular expressions (GRegex, PCRE syntax) over the
// key, the first that matches the whole key wins; its named groups set the
// room's fields: `(?<room>\d{4})(?:\*(?<pin>\d+))?`. Without a `room`
// group the room is the whole key.
#pragma once

#include "room_directory/room.hpp"

#include <glib.h>

#include <optional>
#include <string>
#include <vector>

namespace roomdir {

class Patterns {
public:
    // Throws std::invalid_argument naming the pattern ("patterns[2]: ...")
    // when one does not compile or names a group that is no room field.
    explicit Patterns(const std::vector<std::string> &patterns);
    ~Patterns();
    Patterns(const Patterns &) = delete;
    Patterns &operator=(const Patterns &) = delete;

    bool empty() const { return regexes_.empty(); }
    // The room of the first pattern matching all of `key`; its fields from
    // the groups that took part in the match. A group whose text is not
    // an acceptable value (check_value) makes the pattern not match.
    // `which` gets the pattern's index.
    std::optional<Room> match(const std::string &key, size_t *which = nullptr) const;

private:
    std::vector<GRegex *> regexes_;
};

} // namespace roomdir
