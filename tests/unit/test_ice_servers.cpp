// The turn plugin's URI parsing and TURN REST credentials (coturn's
// shared-secret scheme; the expected password computed independently with
// Python's hmac/base64).
#include "../../plugins/turn/ice_servers.hpp"

#include <doctest/doctest.h>

TEST_CASE("turn and stun URIs parse with their defaults")
{
    turn::Server s;
    std::string error;
    REQUIRE(turn::parse_server("turn:turn.example.org", s, error));
    CHECK(s.scheme == "turn");
    CHECK(s.host == "turn.example.org");
    CHECK(s.port == 3478);
    CHECK(s.transport == "udp");
    REQUIRE(turn::parse_server("turn:10.0.0.1:3479?transport=tcp", s, error));
    CHECK(s.port == 3479);
    CHECK(s.transport == "tcp");
    REQUIRE(turn::parse_server("turns:[2001:db8::1]", s, error));
    CHECK(s.host == "2001:db8::1");
    CHECK(s.port == 5349);
    CHECK(s.transport == "tls");
    REQUIRE(turn::parse_server("stun:stun.example.org:19302", s, error));
    CHECK(s.transport.empty());
}

TEST_CASE("bad URIs say what is wrong")
{
    turn::Server s;
    std::string error;
    CHECK_FALSE(turn::parse_server("http://x", s, error));
    CHECK(error.find("scheme") != std::string::npos);
    CHECK_FALSE(turn::parse_server("turn:host:99999", s, error));
    CHECK(error.find("port") != std::string::npos);
    CHECK_FALSE(turn::parse_server("turn:user:pw@host", s, error));
    CHECK(error.find("credentials") != std::string::npos);
    CHECK_FALSE(turn::parse_server("turn:host?transport=sctp", s, error));
    CHECK_FALSE(turn::parse_server("turns:host?transport=udp", s, error));
}

TEST_CASE("REST credentials match coturn's scheme")
{
    std::string user, pass;
    turn::rest_credentials("secret", "mediagw", 1700000000, user, pass);
    CHECK(user == "1700000000:mediagw");
    CHECK(pass == "oz+lYfKSSLhwyQoPxCMvDVErLCI=");
}

TEST_CASE("webrtcbin URIs percent-encode the credentials")
{
    turn::Server s;
    std::string error;
    REQUIRE(turn::parse_server("turn:127.0.0.1:3478", s, error));
    CHECK(turn::webrtcbin_uri(s, "1700000000:mediagw", "a+b/c=") ==
          "turn://1700000000%3Amediagw:a%2Bb%2Fc%3D@127.0.0.1:3478");
}
