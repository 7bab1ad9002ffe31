#include "nat/turn_transport.hpp"

namespace sipsofia {

TurnTransport::TurnTransport(const TurnServerConfig &config, const TurnLog &log, const std::string &label)
    : rtp_(config, log, label + " RTP"), rtcp_(config, log, label + " RTCP")
{
}

bool TurnTransport::open(const std::string &address, std::string &error)
{
    close();
    auto settle = [this](const std::string &e) { settled(e); };
    if (!rtp_.allocate(address, settle, error) || !rtcp_.allocate(address, settle, error)) {
        close();
        return false;
    }
    open_ = true;
    return true;
}

void TurnTransport::settled(const std::string &error)
{
    ++settled_;
    if (error_.empty())
        error_ = error;
    // The first failure is final; success needs both.
    if ((error_.empty() && settled_ < 2) || !done_)
        return;
    auto done = std::move(done_);
    done_ = nullptr;
    done(error_);
}

void TurnTransport::when_ready(std::function<void(const std::string &error)> done)
{
    if (!open_) {
        done("the TURN relay is not open");
        return;
    }
    if (settled_ == 2 || !error_.empty()) {
        done(error_);
        return;
    }
    done_ = std::move(done);
}

void TurnTransport::close()
{
    done_ = nullptr;
    rtp_.release();
    rtcp_.release();
    open_ = false;
    settled_ = 0;
    error_.clear();
}

bool TurnTransport::make_elements(const std::string &remote_address, int remote_rtp_port, int remote_rtcp_port,
                                  TransportElements &out, std::string &error)
{
    if (!rtp_.allocated() || !rtcp_.allocated()) {
        error = "the TURN relay is not allocated";
        return false;
    }
    rtp_.set_peer({remote_address, remote_rtp_port});
    rtcp_.set_peer({remote_address, remote_rtcp_port});
    out = {};
    if (!rtp_.make_elements(out.rtp_src, out.rtp_sink, error) || !rtcp_.make_elements(out.rtcp_src, out.rtcp_sink, error)) {
        for (GstElement *e : {out.rtp_src, out.rtcp_src, out.rtp_sink, out.rtcp_sink})
            if (e)
                gst_object_unref(gst_object_ref_sink(e));
        out = {};
        elements_released();
        return false;
    }
    g_object_set(out.rtcp_sink, "sync", FALSE, nullptr);
    return true;
}

void TurnTransport::elements_released()
{
    rtp_.elements_released();
    rtcp_.elements_released();
}

} // namespace sipsofia
