// doctest runner shared by the unit tests: GStreamer is initialised once.
#define DOCTEST_CONFIG_IMPLEMENT
#include "doctest.hpp"

#include "log.hpp"

#include <gst/gst.h>

int main(int argc, char **argv)
{
    gst_init(nullptr, nullptr);
    mediagw::set_log_level(MGW_LOG_WARNING);
    doctest::Context context(argc, argv);
    return context.run();
}
