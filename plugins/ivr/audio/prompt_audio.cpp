#include "audio/prompt_audio.hpp"

#include <gio/gio.h>
#include <glib/gstdio.h>
#include <gst/app/gstappsink.h>
#include <gst/gst.h>

namespace ivr {
namespace {

constexpr size_t kMaxSamples = 60 * kPromptRate;

GstElement *make(GstElement *pipeline, const char *factory)
{
    GstElement *e = gst_element_factory_make(factory, nullptr);
    if (e)
        gst_bin_add(GST_BIN(pipeline), e);
    return e;
}

} // namespace

bool decode_wav(const std::string &path, Samples &out, std::string &error)
{
    out.clear();
    if (!g_file_test(path.c_str(), G_FILE_TEST_IS_REGULAR)) {
        error = path + ": no such file";
        return false;
    }
    GstElement *pipeline = gst_pipeline_new("ivr-prompt-decoder");
    GstElement *src = make(pipeline, "filesrc"), *parse = make(pipeline, "wavparse"),
               *conv = make(pipeline, "audioconvert"), *resample = make(pipeline, "audioresample"),
               *sink = make(pipeline, "appsink");
    if (!src || !parse || !conv || !resample || !sink) {
        gst_object_unref(pipeline);
        error = "GStreamer elements filesrc/wavparse/audioconvert/audioresample/appsink are missing";
        return false;
    }
    g_object_set(src, "location", path.c_str(), nullptr);
    GstCaps *caps = gst_caps_new_simple("audio/x-raw", "format", G_TYPE_STRING, "S16LE", "rate", G_TYPE_INT,
                                        kPromptRate, "channels", G_TYPE_INT, 1, "layout", G_TYPE_STRING,
                                        "interleaved", nullptr);
    g_object_set(sink, "caps", caps, "sync", FALSE, nullptr);
    gst_caps_unref(caps);
    gst_element_link_many(src, parse, conv, resample, sink, nullptr);
    gst_element_set_state(pipeline, GST_STATE_PLAYING);
    bool ok = true;
    while (ok) {
        GstSample *sample = gst_app_sink_try_pull_sample(GST_APP_SINK(sink), 5 * GST_SECOND);
        if (!sample)
            break; // the end, an error or a stall: the bus says which
        GstBuffer *buf = gst_sample_get_buffer(sample);
        GstMapInfo map;
        if (buf && gst_buffer_map(buf, &map, GST_MAP_READ)) {
            const auto *s = reinterpret_cast<const int16_t *>(map.data);
            out.insert(out.end(), s, s + map.size / 2);
            gst_buffer_unmap(buf, &map);
        }
        gst_sample_unref(sample);
        if (out.size() > kMaxSamples) {
            error = path + ": longer than 60 s";
            ok = false;
        }
    }
    if (ok && !gst_app_sink_is_eos(GST_APP_SINK(sink))) {
        GstBus *bus = gst_element_get_bus(pipeline);
        GstMessage *msg = gst_bus_pop_filtered(bus, GST_MESSAGE_ERROR);
        error = path + ": ";
        if (msg) {
            GError *e = nullptr;
            gst_message_parse_error(msg, &e, nullptr);
            error += e ? e->message : "cannot be decoded";
            g_clear_error(&e);
            gst_message_unref(msg);
        } else {
            error += "decoding stalled";
        }
        gst_object_unref(bus);
        ok = false;
    }
    gst_element_set_state(pipeline, GST_STATE_NULL);
    gst_object_unref(pipeline);
    if (ok && out.empty()) {
        error = path + ": no audio in it";
        ok = false;
    }
    return ok;
}

bool speak(const std::string &text, const std::string &voice, int speed, Samples &out, std::string &error)
{
    gchar *dir = g_dir_make_tmp("mediagw-ivr-XXXXXX", nullptr); // mode 0700
    if (!dir) {
        error = "cannot make a temporary folder for espeak-ng";
        return false;
    }
    const std::string wav = std::string(dir) + "/prompt.wav";
    const std::string speed_arg = std::to_string(speed);
    // The text on stdin: it may start with '-' and is no option then.
    const gchar *argv[] = {"espeak-ng", "-v", voice.c_str(), "-s", speed_arg.c_str(), "-w", wav.c_str(), "--stdin",
                           nullptr};
    GError *e = nullptr;
    GSubprocess *p = g_subprocess_newv(argv, static_cast<GSubprocessFlags>(G_SUBPROCESS_FLAGS_STDIN_PIPE |
                                                                          G_SUBPROCESS_FLAGS_STDOUT_SILENCE |
                                                                          G_SUBPROCESS_FLAGS_STDERR_PIPE),
                                       &e);
    bool ok = p != nullptr;
    gchar *err_text = nullptr;
    if (ok && !g_subprocess_communicate_utf8(p, text.c_str(), nullptr, nullptr, &err_text, &e))
        ok = false;
    if (ok && !(g_subprocess_get_if_exited(p) && g_subprocess_get_exit_status(p) == 0)) {
        error = "espeak-ng failed" + (err_text && *err_text ? ": " + std::string(g_strstrip(err_text)) : "");
        ok = false;
    } else if (!ok) {
        error = std::string("espeak-ng: ") + (e ? e->message : "cannot run it");
    }
    g_clear_error(&e);
    g_free(err_text);
    if (p)
        g_object_unref(p);
    if (ok)
        ok = decode_wav(wav, out, error);
    g_unlink(wav.c_str());
    g_rmdir(dir);
    g_free(dir);
    return ok;
}

} // namespace ivr
