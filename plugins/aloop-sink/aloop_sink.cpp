// aloop-sink: plays audio into an ALSA PCM, normally the playback side of an
// snd-aloop card, whose capture side a browser then opens as a microphone.
//
// The device is checked (opened with alsa-lib and closed) in start(), and
// alsasink joins the bin only then (mediagw::DeviceSink says why).
#include <mediagw/device_sink.hpp>
#include <mediagw/node.hpp>

#include <alsa/asoundlib.h>

#include <cerrno>
#include <memory>

namespace {

constexpr mgw_property_spec properties[] = {
    mediagw::prop::string("device", "hw:Loopback,0,0",
                          "ALSA PCM to play into; the default is snd-aloop's playback side, "
                          "read back (e.g. by a browser) from hw:Loopback,1,0"),
    mediagw::prop::integer("rate", "48000", "sample rate in Hz"),
    mediagw::prop::integer("channels", "2", "channel count (browsers expect a stereo microphone)"),
    mediagw::prop::choice("format", "S16LE|S32LE|F32LE", "S16LE", "sample format written to the device"),
    mediagw::prop::integer("buffer_time", "40000", "ALSA buffer length in microseconds"),
    mediagw::prop::integer("latency_time", "10000", "ALSA period length in microseconds"),
};

constexpr mgw_port_spec ports[] = {
    mediagw::port::input("audio", mediagw::port::audio, "audio/x-raw", "audio to play into the device",
                         mediagw::port::required),
};

// Empty when `device` opens for playback; otherwise what the user should do.
std::string check_playback_device(const std::string &device)
{
    snd_pcm_t *pcm = nullptr;
    const int rc = snd_pcm_open(&pcm, device.c_str(), SND_PCM_STREAM_PLAYBACK, SND_PCM_NONBLOCK);
    if (rc == 0) {
        snd_pcm_close(pcm);
        return "";
    }
    const std::string name = "ALSA device '" + device + "'";
    switch (-rc) {
    case ENOENT:
    case ENODEV:
        return name + " does not exist: load the snd-aloop kernel module (modprobe snd-aloop) "
                      "or pick an existing device (aplay -L)";
    case EBUSY:
        return name + " is busy: another process holds it (fuser -v /dev/snd/*)";
    case EACCES:
        return name + ": permission denied (is the user in the 'audio' group?)";
    default:
        return "cannot open " + name + ": " + snd_strerror(rc);
    }
}

class AloopSink : public mediagw::Node {
public:
    explicit AloopSink(const mgw_node_init *init) : Node(init), device_(str("device"))
    {
        const int64_t rate = integer("rate"), channels = integer("channels");
        const int64_t buffer_time = integer("buffer_time"), latency_time = integer("latency_time");
        if (rate < 8000 || rate > 384000)
            throw mediagw::Error("rate must be between 8000 and 384000 Hz");
        if (channels < 1 || channels > 8)
            throw mediagw::Error("channels must be between 1 and 8");
        if (latency_time <= 0 || buffer_time < 2 * latency_time)
            throw mediagw::Error("buffer_time must hold at least two periods of latency_time");

        filter_ = gst_element_factory_make("capsfilter", nullptr);
        GstElement *sink = gst_element_factory_make("alsasink", nullptr);
        if (!filter_ || !sink) {
            if (filter_)
                gst_object_unref(filter_);
            if (sink)
                gst_object_unref(sink);
            throw mediagw::Error("GStreamer elements capsfilter/alsasink are missing (gstreamer1.0-alsa)");
        }
        // provide-clock false: the pipeline clock stays authoritative (the
        // sink slaves the device to it by skew correction), so a sound card
        // never paces other branches.
        g_object_set(sink, "device", device_.c_str(), "sync", TRUE, "provide-clock", FALSE, "buffer-time",
                     buffer_time, "latency-time", latency_time, nullptr);
        GstCaps *caps = gst_caps_new_simple("audio/x-raw", "format", G_TYPE_STRING, str("format").c_str(),
                                            "layout", G_TYPE_STRING, "interleaved", "rate", G_TYPE_INT,
                                            static_cast<int>(rate), "channels", G_TYPE_INT,
                                            static_cast<int>(channels), nullptr);
        g_object_set(filter_, "caps", caps, nullptr);
        gst_caps_unref(caps);
        gst_bin_add(bin(), filter_);
        GstPad *in = gst_element_get_static_pad(filter_, "sink");
        gst_ghost_pad_set_target(GST_GHOST_PAD(add_input("audio")), in);
        gst_object_unref(in);
        sink_ = std::make_unique<mediagw::DeviceSink>(bin(), filter_, sink); // joins in start()
    }

    bool start(std::string &error) override
    {
        if (sink_->attached())
            return true; // started again after a re-arm: the device stays open
        error = check_playback_device(device_);
        if (!error.empty()) {
            sink_->attach_placeholder();
            return false;
        }
        if (!sink_->attach()) {
            error = "cannot open ALSA device '" + device_ + "' (see the GStreamer error)";
            return false;
        }
        log(MGW_LOG_INFO, "playing into ALSA device '%s'", device_.c_str());
        return true;
    }

private:
    std::string device_;
    GstElement *filter_ = nullptr;
    std::unique_ptr<mediagw::DeviceSink> sink_;
};

} // namespace

MEDIAGW_PLUGIN(AloopSink, "aloop-sink", "0.1.0", "Plays audio into an ALSA device (snd-aloop: a virtual microphone)",
               nullptr, nullptr, properties, ports);
