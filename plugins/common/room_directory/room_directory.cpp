#include "room_directory/room_directory.hpp"

#include <glib/gstdio.h>

namespace roomdir {
namespace {

gint64 mtime_of(const std::string &path)
{
    GStatBuf st;
    if (g_stat(path.c_str(), &st) != 0)
        return -1;
    return static_cast<gint64>(st.st_mtim.tv_sec) * G_USEC_PER_SEC + st.st_mtim.tv_nsec / 1000;
}

std::string base_name(const std::string &path)
{
    gchar *b = g_path_get_basename(path.c_str());
    std::string out = b;
    g_free(b);
    return out;
}

} // namespace

RoomDirectory::RoomDirectory(const DirectorySettings &s)
    : table_path_(s.table), patterns_(s.patterns), service_(s.service)
{
    if (!table_path_.empty()) {
        table_mtime_ = mtime_of(table_path_);
        table_ = RoomTable::load(table_path_);
    }
    if (!s.http.url.empty())
        http_ = std::make_unique<HttpLookup>(s.http);
}

std::string RoomDirectory::describe() const
{
    std::string out;
    auto add = [&](const std::string &part) { out += (out.empty() ? "" : ", ") + part; };
    if (table_)
        add("table " + base_name(table_path_) + " (" + std::to_string(table_->size()) + " rooms)");
    if (!patterns_.empty())
        add("patterns");
    if (http_)
        add("http lookup");
    return out.empty() ? "no source" : out;
}

std::string RoomDirectory::refresh()
{
    if (table_path_.empty())
        return "";
    const gint64 now = mtime_of(table_path_);
    if (now == table_mtime_)
        return "";
    try {
        table_ = RoomTable::load(table_path_);
        table_mtime_ = now;
        return "";
    } catch (const TableError &e) {
        table_mtime_ = now; // reported once per change
        return e.what();
    }
}

Result RoomDirectory::finish(Result r) const
{
    if (r.kind == Result::Kind::Found && r.room.service.empty())
        r.room.service = service_;
    return r;
}

void RoomDirectory::lookup(const std::string &key, Done done)
{
    cancel();
    if (key.empty())
        return done(Result::not_found("no key (empty)"));
    if (const std::string bad = check_value(key); !bad.empty())
        return done(Result::not_found("the key is " + bad));
    if (table_)
        if (const Room *r = table_->find(key))
            return done(finish(Result::found(*r, "table " + base_name(table_path_))));
    size_t which = 0;
    if (auto r = patterns_.match(key, &which))
        return done(finish(Result::found(std::move(*r), "pattern " + std::to_string(which + 1))));
    if (http_)
        return http_->lookup(key, [this, done = std::move(done)](const Result &r) { done(finish(r)); });
    done(Result::not_found("no such room"));
}

void RoomDirectory::cancel()
{
    if (http_)
        http_->cancel();
}

} // namespace roomdir
