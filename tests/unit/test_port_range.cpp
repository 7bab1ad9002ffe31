// rtp_ports (plugins/common/net/port_range.cpp): "MIN-MAX" or empty; every
// other text is refused with the reason.
#include "net/port_range.hpp"

#include <doctest/doctest.h>

using mgwnet::PortRange;
using mgwnet::parse_port_range;

TEST_CASE("rtp_ports: empty is any port, MIN-MAX a range")
{
    PortRange r{1, 2};
    std::string error;
    CHECK(parse_port_range("", r, error));
    CHECK(r.any());
    CHECK(parse_port_range("20000-29999", r, error));
    CHECK(r.min == 20000);
    CHECK(r.max == 29999);
    CHECK_FALSE(r.any());
    CHECK(parse_port_range("1024-1025", r, error)); // one pair
}

TEST_CASE("rtp_ports: malformed or out-of-range texts are refused")
{
    for (const char *bad : {"30000", "20000:20010", "-20000", "20000-", "a-b", "20000-2000x", " 20000-20010",
                            "20000 - 20010", "99999999999-1"}) {
        PortRange r;
        std::string error;
        CHECK_MESSAGE(!parse_port_range(bad, r, error), bad);
        CHECK(error.find("is not MIN-MAX") != std::string::npos);
        CHECK(r.any());
    }
    for (const char *bad : {"1000-2000", "20000-70000", "30000-30000", "30010-30000"}) {
        PortRange r;
        std::string error;
        CHECK_MESSAGE(!parse_port_range(bad, r, error), bad);
        CHECK(error.find("1024 <= MIN < MAX <= 65535") != std::string::npos);
    }
}
