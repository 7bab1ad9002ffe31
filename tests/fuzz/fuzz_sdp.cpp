// The SIP leg's SDP handling of a peer's offer or answer
// (plugins/sip-sofia/sdp/sdp_checks.cpp, sdp_negotiation.cpp): the pre-checks,
// the negotiation of an offer, and an answer to our own offer.
#include "../../plugins/sip-sofia/sdp/sdp_checks.hpp"
#include "../../plugins/sip-sofia/sdp/sdp_negotiation.hpp"

#include <cstddef>
#include <cstdint>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    using namespace sipsofia;
    const std::string sdp(reinterpret_cast<const char *>(data), size);
    std::string why;
    sdp_check(sdp, why);
    sdp_is_hold(sdp);
    static const std::vector<std::string> codecs{"opus", "G722", "PCMU", "PCMA", "VP8", "H264"};
    LocalMedia local;
    local.address = "192.0.2.1";
    local.rtp_port = 4000;
    local.video_rtp_port = 4002;
    local.audio_key = local.video_key = std::string(40, 'A');
    negotiate(sdp, codecs, local);
    static const std::string offer = create_offer(codecs, local);
    apply_answer(sdp, offer);
    return 0;
}
