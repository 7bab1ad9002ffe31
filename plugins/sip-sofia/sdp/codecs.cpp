#include "sdp/codecs.hpp"

#include <gst/gst.h>

namespace sipsofia {

namespace {

const CodecInfo table[] = {
    {"PCMU", "audio", 8000, 0, 0, 0, "rtppcmupay", "rtppcmudepay"},
    {"PCMA", "audio", 8000, 0, 8, 8, "rtppcmapay", "rtppcmadepay"},
    {"G722", "audio", 8000, 0, 9, 9, "rtpg722pay", "rtpg722depay"},
    {"opus", "audio", 48000, 2, -1, 111, "rtpopuspay", "rtpopusdepay"},
    {"VP8", "video", 90000, 0, -1, 96, "rtpvp8pay", "rtpvp8depay"},
    {"H264", "video", 90000, 0, -1, 97, "rtph264pay", "rtph264depay"},
};

bool factory_exists(const char *name)
{
    GstElementFactory *f = gst_element_factory_find(name);
    if (f)
        gst_object_unref(f);
    return f != nullptr;
}

} // namespace

const CodecInfo *codec_info(const std::string &name)
{
    for (const auto &c : table)
        if (!g_ascii_strcasecmp(c.name, name.c_str()))
            return &c;
    return nullptr;
}

bool codec_supported(const std::string &name)
{
    const CodecInfo *c = codec_info(name);
    return c && factory_exists(c->payloader) && factory_exists(c->depayloader);
}

} // namespace sipsofia
