// The bin the core puts on every link between two ports. It passes media
// through untouched while the downstream port accepts the caps, and rebuilds
// its inside (decoder, converters, encoder) whenever the caps change to ones
// the downstream port does not take: at the first caps of a call, and again
// after a re-INVITE changes the codec, or when the downstream port changes
// what it takes (signalled by a RECONFIGURE event).
#pragma once

#include "conversion.hpp"

#include <mediagw/plugin.h>

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace mediagw {

class LinkAdapter {
public:
    using Reporter = std::function<void(bool error, const std::string &message)>;

    // `name` such as "sip.audio->web.audio"; `report` may be called from a
    // streaming thread (it must only log or marshal to the main loop).
    // nullptr with `error` set when GStreamer cannot make its elements.
    static std::unique_ptr<LinkAdapter> create(const std::string &name, mgw_media_kind kind, Reporter report,
                                               std::string &error);
    ~LinkAdapter();
    LinkAdapter(const LinkAdapter &) = delete;

    GstElement *element() const { return GST_ELEMENT(bin_); }
    GstPad *sink() const { return sink_; }
    GstPad *src() const { return src_; }

    // Nothing ever flowed in: push EOS downstream so that sinks finish.
    void drain_if_idle();
    // The plan in use ("" before caps): for tests and logs.
    std::string current_plan() const;

private:
    LinkAdapter(const std::string &name, mgw_media_kind kind, Reporter report, GstElement *pass);
    static GstPadProbeReturn on_sink_event(GstPad *pad, GstPadProbeInfo *info, gpointer self);
    static GstPadProbeReturn on_sink_query(GstPad *pad, GstPadProbeInfo *info, gpointer self);
    static GstPadProbeReturn on_sink_buffer(GstPad *pad, GstPadProbeInfo *info, gpointer self);
    static GstPadProbeReturn on_src_event(GstPad *pad, GstPadProbeInfo *info, gpointer self);
    static GstPadProbeReturn on_src_query(GstPad *pad, GstPadProbeInfo *info, gpointer self);
    void replan(GstCaps *caps);
    bool install(const ConversionPlan &plan);

    std::string name_;
    mgw_media_kind kind_;
    Reporter report_;
    GstBin *bin_;
    GstPad *sink_; // ghost pads of bin_
    GstPad *src_;
    // The elements inside: owned by the streaming thread that carries the
    // link's caps (install() runs there, under the sink pad's stream lock);
    // no other thread reads them.
    std::vector<GstElement *> chain_;
    std::atomic<bool> recheck_{false};
    mutable std::mutex mutex_; // guards the two fields below
    std::vector<std::string> plan_;
    bool saw_caps_ = false;
};

} // namespace mediagw
