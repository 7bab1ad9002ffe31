// Origins (plugins/webrtc-direct/whip_whep/origin.cpp): the WHIP/WHEP client's bearer
// token goes to the configured server's origin only.
#include "../../plugins/webrtc-direct/whip_whep/origin.hpp"

#include <doctest/doctest.h>

using namespace webrtcdirect;

TEST_CASE("origins: scheme, host and port")
{
    CHECK(same_origin("http://127.0.0.1:8080/whip", "http://127.0.0.1:8080/whip/1?x=y"));
    CHECK(same_origin("https://Example.org/whip", "https://example.org:443/elsewhere"));
    CHECK(same_origin("http://example.org/a", "http://example.org:80/b"));
    CHECK_FALSE(same_origin("http://127.0.0.1:8080/whip", "http://127.0.0.1:8081/whip"));
    CHECK_FALSE(same_origin("http://example.org/whip", "https://example.org/whip"));
    CHECK_FALSE(same_origin("http://example.org/whip", "http://example.org.evil.net/whip"));
    CHECK_FALSE(same_origin("http://example.org/whip", "http://user@evil.net/@example.org"));
    CHECK_FALSE(same_origin("http://example.org/whip", "/relative"));
    CHECK_FALSE(same_origin("http://example.org/whip", "not a url"));
    CHECK_FALSE(same_origin("", ""));
}
