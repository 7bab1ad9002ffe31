// The entry points of libmgw-sip-sofia-ice.so (nat/ice_call.hpp): a call's
// IceSession and the IceTransport of each m= line.
#include "nat/ice_call.hpp"
#include "nat/ice_session.hpp"
#include "nat/ice_transport.hpp"

namespace sipsofia {
namespace {

class NiceIceCall : public IceCall {
public:
    NiceIceCall(const IceServers &servers, bool controlling, TurnLog log)
        : session_(std::make_shared<IceSession>(servers, controlling, std::move(log)))
    {
    }
    void apply_remote(const std::string &sdp, bool we_offered) override { session_->apply_remote(sdp, we_offered); }
    std::string add_local(const std::string &sdp) const override { return session_->add_local(sdp); }
    std::unique_ptr<MediaTransport> transport(const char *label) override
    {
        return std::make_unique<IceTransport>(session_, label);
    }

private:
    std::shared_ptr<IceSession> session_; // shared with the transports, which may outlive the call's use of it
};

} // namespace
} // namespace sipsofia

extern "C" __attribute__((visibility("default"))) sipsofia::IceCall *
mgw_sip_sofia_ice_call_new(const sipsofia::IceServers &servers, bool controlling, sipsofia::TurnLog log)
{
    return new sipsofia::NiceIceCall(servers, controlling, std::move(log));
}

extern "C" __attribute__((visibility("default"))) void mgw_sip_sofia_ice_when_closed(guint timeout_ms,
                                                                                    std::function<void()> done)
{
    sipsofia::IceSession::when_closed(timeout_ms, std::move(done));
}
