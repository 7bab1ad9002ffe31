#include "private_dir.hpp"

#include <glib.h>

#include <ftw.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <stdexcept>

namespace browsercapture {

void PrivateDir::remove_tree(const std::string &path)
{
    nftw(
        path.c_str(),
        [](const char *p, const struct stat *, int, struct FTW *) -> int {
            remove(p);
            return 0;
        },
        16, FTW_DEPTH | FTW_PHYS);
}

void PrivateDir::remove_stale(const std::string &prefix)
{
    const std::string tmp = g_get_tmp_dir();
    GDir *dir = g_dir_open(tmp.c_str(), 0, nullptr);
    if (!dir)
        return;
    const uid_t me = geteuid();
    while (const char *name = g_dir_read_name(dir)) {
        if (strncmp(name, prefix.c_str(), prefix.size()) != 0)
            continue;
        const long pid = strtol(name + prefix.size(), nullptr, 10);
        const std::string path = tmp + "/" + name;
        struct stat st;
        if (pid <= 0 || lstat(path.c_str(), &st) != 0 || !S_ISDIR(st.st_mode) || st.st_uid != me)
            continue;
        if (kill(pid_t(pid), 0) != 0 && errno == ESRCH)
            remove_tree(path);
    }
    g_dir_close(dir);
}

PrivateDir::PrivateDir(const std::string &prefix)
{
    remove_stale(prefix);
    const std::string templ = prefix + std::to_string(getpid()) + "-XXXXXX";
    GError *error = nullptr;
    gchar *dir = g_dir_make_tmp(templ.c_str(), &error); // mode 0700
    if (!dir) {
        std::string why = error->message;
        g_error_free(error);
        throw std::runtime_error("cannot create a private directory: " + why);
    }
    path_ = dir;
    g_free(dir);
}

PrivateDir::~PrivateDir()
{
    remove_tree(path_);
}

} // namespace browsercapture
