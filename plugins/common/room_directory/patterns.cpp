#include "room_directory/patterns.hpp"

#include <stdexcept>

namespace roomdir {
namespace {

// Names of the pattern's named groups: (?<name>, (?P<name>, (?'name'.
std::vector<std::string> group_names(const std::string &p)
{
    std::vector<std::string> names;
    for (size_t i = 0; i + 3 < p.size(); ++i) {
        if (p[i] == '\\') {
            ++i;
            continue;
        }
        if (p[i] != '(' || p[i + 1] != '?')
            continue;
        size_t at = i + 2;
        if (p[at] == 'P' && at + 1 < p.size() && p[at + 1] == '<')
            ++at;
        if (p[at] != '<' && p[at] != '\'')
            continue;
        const char close = p[at] == '<' ? '>' : '\'';
        if (at + 1 < p.size() && (p[at + 1] == '=' || p[at + 1] == '!'))
            continue; // a lookbehind, (?<= / (?<!
        const size_t end = p.find(close, at + 1);
        if (end != std::string::npos)
            names.push_back(p.substr(at + 1, end - at - 1));
    }
    return names;
}

} // namespace

Patterns::Patterns(const std::vector<std::string> &patterns)
{
    try {
        for (size_t i = 0; i < patterns.size(); ++i) {
            const std::string where = "patterns[" + std::to_string(i + 1) + "] \"" + patterns[i] + "\"";
            for (const std::string &name : group_names(patterns[i]))
                if (!is_room_field(name))
                    throw std::invalid_argument(where + ": group '" + name +
                                                "' is not a room field (service, room, pin, url, display)");
            // The pattern alone first: its errors then speak of its own text and offsets.
            GError *error = nullptr;
            GRegex *alone = g_regex_new(patterns[i].c_str(), static_cast<GRegexCompileFlags>(0),
                                        static_cast<GRegexMatchFlags>(0), &error);
            if (!alone) {
                std::string why = error ? error->message : "does not compile";
                g_clear_error(&error);
                throw std::invalid_argument(where + ": " + why);
            }
            g_regex_unref(alone);
            // Anchored at both ends: a pattern describes the whole key.
            const std::string whole = "^(?:" + patterns[i] + ")$";
            GRegex *re = g_regex_new(whole.c_str(), static_cast<GRegexCompileFlags>(G_REGEX_DOLLAR_ENDONLY),
                                     static_cast<GRegexMatchFlags>(0), &error);
            if (!re) { // e.g. a stray ')' that closes our group
                g_clear_error(&error);
                throw std::invalid_argument(where + ": does not compile as a pattern of the whole key");
            }
            regexes_.push_back(re);
        }
    } catch (...) {
        for (GRegex *re : regexes_)
            g_regex_unref(re);
        throw;
    }
}

Patterns::~Patterns()
{
    for (GRegex *re : regexes_)
        g_regex_unref(re);
}

std::optional<Room> Patterns::match(const std::string &key, size_t *which) const
{
    if (!g_utf8_validate(key.data(), static_cast<gssize>(key.size()), nullptr))
        return std::nullopt;
    for (size_t i = 0; i < regexes_.size(); ++i) {
        GMatchInfo *info = nullptr;
        if (!g_regex_match_full(regexes_[i], key.c_str(), static_cast<gssize>(key.size()), 0,
                                static_cast<GRegexMatchFlags>(0), &info, nullptr)) {
            g_match_info_free(info);
            continue;
        }
        Room room;
        room.room = key;
        bool acceptable = true;
        for (const char *field : kRoomFields) {
            if (g_regex_get_string_number(regexes_[i], field) < 0)
                continue;
            int start = -1, end = -1;
            if (!g_match_info_fetch_named_pos(info, field, &start, &end) || start < 0)
                continue; // an optional group that did not take part
            std::string text = key.substr(static_cast<size_t>(start), static_cast<size_t>(end - start));
            if (!check_value(text).empty())
                acceptable = false;
            *room_field(room, field) = std::move(text);
        }
        g_match_info_free(info);
        if (!acceptable || room.room.empty())
            continue;
        if (which)
            *which = i;
        return room;
    }
    return std::nullopt;
}

} // namespace roomdir
