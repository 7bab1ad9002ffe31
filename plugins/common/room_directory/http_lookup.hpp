// Rooms from an HTTP service: GET URL?key=KEY (libsoup 3, on the main
// loop), `Authorization: Bearer TOKEN` when a token is set (never logged).
// 200 with a JSON object {"room": ..., "pin": ..., "service": ..., "url":
// ..., "display": ...} (strings; room and pin may be integers) is a room,
// 404 is no such room, anything else an error. The answer is bounded
// (Content-Length checked before reading, then at most `max_bytes` read),
// the whole exchange by `timeout_ms`; redirects are followed only within
// the URL's origin (at most 3), the token never leaves it.
#pragma once

#include "room_directory/room.hpp"

#include <libsoup/soup.h>

#include <functional>
#include <memory>
#include <string>

namespace roomdir {

struct HttpSettings {
    std::string url;   // http(s)://...; the key goes in the query as key=
    std::string token; // secret
    unsigned timeout_ms = 3000;
    size_t max_bytes = 64 * 1024;
};

// A JSON answer as a room, or an error naming the field ("field 'pin': ...").
Result room_from_json(const char *data, size_t size);

class HttpLookup {
public:
    // Throws std::invalid_argument when the URL is not absolute http(s).
    explicit HttpLookup(HttpSettings settings);
    ~HttpLookup(); // cancels a lookup under way: its callback is not called
    HttpLookup(const HttpLookup &) = delete;
    HttpLookup &operator=(const HttpLookup &) = delete;

    // One lookup at a time: a new one cancels the previous (whose callback
    // is then not called). `done` runs on the main loop, later, never
    // inside lookup(); exceptions it throws are its own business (catch them).
    using Done = std::function<void(const Result &)>;
    void lookup(const std::string &key, Done done);
    void cancel();

    // The URL with its query and user info left out: for messages.
    static std::string loggable(const std::string &url);

    struct Exchange; // one lookup under way (http_lookup.cpp)

private:
    HttpSettings settings_;
    SoupSession *session_ = nullptr;
    std::shared_ptr<Exchange> current_;
};

} // namespace roomdir
