// SIP INFO bodies and RFC 4733 payloads (plugins/sip-sofia/signalling/sip_info.cpp,
// media/dtmf.cpp). The first byte picks the content type; the rest is the body,
// and also a stream of telephone-event payloads.
#include "../../plugins/sip-sofia/media/dtmf.hpp"
#include "../../plugins/sip-sofia/signalling/sip_info.hpp"

#include <cstddef>
#include <cstdint>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    static const char *types[] = {"application/dtmf-relay", "application/dtmf", "application/media_control+xml",
                                  "Application/DTMF-Relay; charset=utf-8", "text/plain"};
    const std::string body(reinterpret_cast<const char *>(data + 1), size - 1);
    sipsofia::parse_info(types[data[0] % 5], body);
    sipsofia::Rfc4733Receiver r(data[0] % 2 ? 8000 : 0);
    for (size_t at = 1; at + 4 <= size; at += 4)
        r.feed(data + at, size - at < 8 ? size - at : 4, static_cast<uint32_t>(at / 8));
    return 0;
}
