// RFC 9725 Link header fields of a WHIP/WHEP server's answer
// (plugins/webrtc-direct/whip_whep/ice_server_links.cpp). Each line is one field.
#include "../../plugins/webrtc-direct/whip_whep/ice_server_links.hpp"

#include <cstddef>
#include <cstdint>
#include <sstream>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    std::istringstream in(std::string(reinterpret_cast<const char *>(data), size));
    std::vector<std::string> fields;
    for (std::string line; std::getline(in, line);)
        fields.push_back(line);
    std::vector<std::string> problems;
    webrtcdirect::ice_servers_from_links(fields, problems);
    return 0;
}
