// SDES a=crypto values (plugins/sip-sofia/sdp/srtp.cpp parse_crypto).
#include "../../plugins/sip-sofia/sdp/srtp.hpp"

#include <cstddef>
#include <cstdint>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const std::string value(reinterpret_cast<const char *>(data), size); // NUL-terminated copy
    if (auto c = sipsofia::parse_crypto(value.c_str()))
        sipsofia::crypto_attribute(*c);
    return 0;
}
