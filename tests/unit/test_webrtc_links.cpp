// ICE servers from the Link headers of a WHIP/WHEP server's 201
// (plugins/webrtc-direct/whip_whep/ice_server_links.cpp), hostile values included.
#include "../../plugins/webrtc-direct/whip_whep/ice_server_links.hpp"

#include <doctest/doctest.h>

using namespace webrtcdirect;

TEST_CASE("Link headers: rel=ice-server links with their credentials")
{
    std::vector<std::string> problems;
    const auto servers = ice_servers_from_links(
        {"<stun:stun.example.org>; rel=\"ice-server\", <https://example.org/x>; rel=\"next\"",
         "<turn:turn.example.org:3478?transport=udp>; rel=\"ice-server\"; username=\"u\\\"1\"; "
         "credential=\"p,;=\"; credential-type=\"password\"",
         "<turns:t.example.org>;REL=\"ICE-SERVER other\";Username=bob;credential=x"},
        problems);
    CHECK(problems.empty());
    REQUIRE(servers.size() == 3);
    CHECK(servers[0].url == "stun:stun.example.org");
    CHECK(servers[1].url == "turn:turn.example.org:3478?transport=udp");
    CHECK(servers[1].username == "u\"1");
    CHECK(servers[1].credential == "p,;=");
    CHECK(servers[2].username == "bob");
}

TEST_CASE("malformed Link headers are skipped and named, never fatal")
{
    std::vector<std::string> problems;
    const auto servers = ice_servers_from_links(
        {"turn:no-brackets; rel=ice-server",
         "<turn:unterminated",
         "<turn:a>; rel=\"ice-server\"; username=\"never closed",
         "<turn:b> garbage; rel=ice-server",
         "",
         ",,, ,",
         std::string(100000, '<'),
         "<turn:ok>; rel=ice-server; username=u; credential=c"},
        problems);
    REQUIRE(servers.size() == 1);
    CHECK(servers[0].url == "turn:ok");
    CHECK(problems.size() >= 4);
    for (const auto &p : problems)
        CHECK(p.find("credential") == std::string::npos); // nothing secret in what is logged
}
