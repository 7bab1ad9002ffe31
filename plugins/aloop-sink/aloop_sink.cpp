// aloop-sink: plays audio into an ALSA PCM, normally the playback side of an
// snd-aloop card, whose capture side a browser then opens as a microphone.
//
// The device is checked (opened with alsa-lib and closed) in start(), and
// alsasink joins the bin only then: the core sets the pipeline to PLAYING
// before it starts nodes, and an alsasink present from the beginning would
// fail that state change with GStreamer's generic "could not open device"
// instead of our message. Until then the node acts as a closed device:
// buffers are discarded at the capsfilter, so live upstream branches never
// stall (a node with start_on may wait for a call for minutes).
#include <mediagw/node.hpp>

#include <alsa/asoundlib.h>

#include <cerrno>

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
        // Kept outside the bin until start(). provide-clock false: the
        // pipeline clock stays authoritative (the sink slaves the device to
        // it by skew correction), so a sound card never paces other branches.
        sink_ = GST_ELEMENT(gst_object_ref_sink(sink));
        g_object_set(sink_, "device", device_.c_str(), "sync", TRUE, "provide-clock", FALSE, "buffer-time",
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

        GstPad *out = gst_element_get_static_pad(filter_, "src");
        discard_probe_ = gst_pad_add_probe(out, buffers, discard, nullptr, nullptr);
        gst_object_unref(out);
    }

    ~AloopSink() override { gst_object_unref(sink_); }

    bool start(std::string &error) override
    {
        if (connected_)
            return true; // started again after a re-arm: the device stays open
        error = check_playback_device(device_);
        if (!error.empty()) {
            connect_sink(gst_element_factory_make("fakesink", nullptr)); // lets the drain's EOS through
            return false;
        }
        if (!connect_sink(sink_)) {
            error = "cannot open ALSA device '" + device_ + "' (see the GStreamer error)";
            return false;
        }
        log(MGW_LOG_INFO, "playing into ALSA device '%s'", device_.c_str());
        return true;
    }

private:
    // Buffers only: sticky events (stream-start, caps, segment) stay on the
    // unlinked pad and reach the sink once it is linked.
    static constexpr auto buffers =
        static_cast<GstPadProbeType>(GST_PAD_PROBE_TYPE_BUFFER | GST_PAD_PROBE_TYPE_BUFFER_LIST);

    static GstPadProbeReturn discard(GstPad *, GstPadProbeInfo *, gpointer) { return GST_PAD_PROBE_DROP; }

    // Links `sink` after the capsfilter in the running pipeline and stops
    // discarding. async=false: a sink that prerolls while the pipeline
    // is PLAYING would make the whole pipeline lose its state.
    bool connect_sink(GstElement *sink)
    {
        g_object_set(sink, "async", FALSE, nullptr);
        gst_bin_add(bin(), sink);
        // No caps check: until the link adapter sees the first caps, upstream
        // still offers what the source makes; negotiation comes with the data.
        const bool ok = gst_element_link_pads_full(filter_, "src", sink, "sink", GST_PAD_LINK_CHECK_NOTHING) &&
                        gst_element_sync_state_with_parent(sink);
        connected_ = true;
        GstPad *out = gst_element_get_static_pad(filter_, "src");
        gst_pad_remove_probe(out, discard_probe_);
        gst_object_unref(out);
        // Let the pipeline include the new sink's latency.
        gst_element_post_message(GST_ELEMENT(bin()), gst_message_new_latency(GST_OBJECT(bin())));
        return ok;
    }

    std::string device_;
    GstElement *filter_ = nullptr;
    GstElement *sink_ = nullptr;
    gulong discard_probe_ = 0;
    bool connected_ = false;
};

} // namespace

MEDIAGW_PLUGIN(AloopSink, "aloop-sink", "0.1.0", "Plays audio into an ALSA device (snd-aloop: a virtual microphone)",
               nullptr, nullptr, properties, ports);
