#include "net/port_range.hpp"

#include <charconv>

namespace mgwnet {
namespace {

bool port_number(const std::string &text, int &out)
{
    const char *end = text.data() + text.size();
    auto [p, ec] = std::from_chars(text.data(), end, out);
    return ec == std::errc() && p == end && !text.empty();
}

} // namespace

bool parse_port_range(const std::string &text, PortRange &out, std::string &error)
{
    out = {};
    if (text.empty())
        return true;
    const auto dash = text.find('-');
    int min = 0, max = 0;
    if (dash == std::string::npos || !port_number(text.substr(0, dash), min) ||
        !port_number(text.substr(dash + 1), max)) {
        error = "'" + text + "' is not MIN-MAX (for example 20000-29999)";
        return false;
    }
    if (min < 1024 || max > 65535 || min >= max) {
        error = "'" + text + "': ports must be 1024 <= MIN < MAX <= 65535";
        return false;
    }
    out = {min, max};
    return true;
}

} // namespace mgwnet
