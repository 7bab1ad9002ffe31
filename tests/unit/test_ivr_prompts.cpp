// The IVR's prompt audio (plugins/ivr/audio/prompt_audio.cpp): espeak-ng
// renders through a private temporary folder that is gone afterwards; WAV
// files decode to 48 kHz mono; bad files are refused naming the file.
#include "audio/prompt_audio.hpp"

#include "scratch_dir.hpp"

#include <doctest/doctest.h>

#include <glib/gstdio.h>
#include <gst/gst.h>

#include <cstdlib>
#include <fstream>
#include <string>

using namespace ivr;

namespace {

int temp_folders()
{
    int n = 0;
    GDir *d = g_dir_open(g_get_tmp_dir(), 0, nullptr);
    for (const char *name; d && (name = g_dir_read_name(d));)
        n += g_str_has_prefix(name, "mediagw-ivr-");
    if (d)
        g_dir_close(d);
    return n;
}

// Removed with its files when the test program ends.
unit::ScratchDir scratch_dir("mgw-prompts-XXXXXX");

std::string scratch(const std::string &name) { return scratch_dir.dir + "/" + name; }

} // namespace

TEST_CASE("espeak-ng speaks a prompt; nothing is left behind")
{
    if (!g_find_program_in_path("espeak-ng")) {
        MESSAGE("espeak-ng is missing: skipped");
        return;
    }
    const int before = temp_folders();
    Samples s;
    std::string error;
    REQUIRE_MESSAGE(speak("Please enter the room number.", "en", 160, s, error), error);
    CHECK(s.size() > kPromptRate / 2); // more than half a second
    CHECK(s.size() < 10 * kPromptRate);
    long long energy = 0;
    for (int16_t v : s)
        energy += std::abs(v);
    CHECK(energy / static_cast<long long>(s.size()) > 100); // speech, not silence
    CHECK(temp_folders() == before);
    Samples dash;
    CHECK(speak("-v xx --help", "en", 160, dash, error)); // text on stdin: never an option
    const std::string path = g_getenv("PATH");
    g_setenv("PATH", "/nonexistent", TRUE); // no espeak-ng to run: a clear error
    CHECK_FALSE(speak("hello", "en", 160, dash, error));
    g_setenv("PATH", path.c_str(), TRUE);
    CHECK(error.rfind("espeak-ng: ", 0) == 0);
    CHECK(temp_folders() == before);
}

TEST_CASE("WAV prompts: any rate becomes 48 kHz mono; bad files are named")
{
    const std::string wav = scratch("tone.wav");
    GError *e = nullptr;
    const std::string launch = "audiotestsrc num-buffers=10 samplesperbuffer=800 ! audio/x-raw,rate=8000,channels=2 "
                               "! wavenc ! filesink location=" + wav;
    GstElement *p = gst_parse_launch(launch.c_str(), &e);
    REQUIRE(p);
    gst_element_set_state(p, GST_STATE_PLAYING);
    GstBus *bus = gst_element_get_bus(p);
    gst_message_unref(gst_bus_timed_pop_filtered(bus, 5 * GST_SECOND,
                                                 static_cast<GstMessageType>(GST_MESSAGE_EOS | GST_MESSAGE_ERROR)));
    gst_object_unref(bus);
    gst_element_set_state(p, GST_STATE_NULL);
    gst_object_unref(p);
    Samples s;
    std::string error;
    REQUIRE_MESSAGE(decode_wav(wav, s, error), error);
    CHECK(s.size() > kPromptRate * 95 / 100); // 1 s of 8 kHz stereo -> ~48000 mono samples
    CHECK(s.size() < kPromptRate * 105 / 100);

    const std::string text = scratch("not-a.wav");
    std::ofstream(text) << "this is not audio\n";
    CHECK_FALSE(decode_wav(text, s, error));
    CHECK(error.rfind(text + ": ", 0) == 0);
    CHECK_FALSE(decode_wav(scratch("missing.wav"), s, error));
    CHECK(error.find("no such file") != std::string::npos);
}
