// A private scratch folder for a test program (g_dir_make_tmp), removed with
// the files in it when the object goes.
#pragma once

#include <glib.h>
#include <glib/gstdio.h>

#include <string>

namespace unit {

struct ScratchDir {
    std::string dir;
    explicit ScratchDir(const char *name_template)
    {
        gchar *d = g_dir_make_tmp(name_template, nullptr);
        dir = d ? d : "";
        g_free(d);
    }
    ~ScratchDir()
    {
        GDir *d = g_dir_open(dir.c_str(), 0, nullptr);
        for (const char *name; d && (name = g_dir_read_name(d));)
            g_unlink((dir + "/" + name).c_str());
        if (d)
            g_dir_close(d);
        g_rmdir(dir.c_str());
    }
    ScratchDir(const ScratchDir &) = delete;
    ScratchDir &operator=(const ScratchDir &) = delete;
};

} // namespace unit
