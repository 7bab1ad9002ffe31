// What a WHIP/WHEP client POSTs and PATCHes to the serve endpoints
// (plugins/webrtc-direct/media/offer.cpp, whip_whep/trickle_fragment.cpp): the offer, its
// a=rtpmap values, and a trickled fragment against that offer's mids.
#include "../../plugins/webrtc-direct/media/offer.hpp"
#include "../../plugins/webrtc-direct/whip_whep/trickle_fragment.hpp"

#include <cstddef>
#include <cstdint>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    using namespace webrtcdirect;
    const std::string text(reinterpret_cast<const char *>(data), size);
    static const std::vector<std::string> video{"VP8", "H264"};
    Offer offer;
    std::string error;
    parse_offer(text, video, offer, error);
    int pt = 0;
    std::string encoding;
    parse_rtpmap(text.c_str(), pt, encoding);
    RemoteCandidates candidates;
    parse_trickle_fragment(text, {"0", "1", "audio"}, candidates, error);
    return 0;
}
