// The SIP leg's TURN client (plugins/sip-sofia/nat/turn_client.cpp) against a
// fake server on loopback and a second socket playing the attacker: only
// the server's authenticated answer to an outstanding request counts, once.
#include "../../plugins/sip-sofia/nat/turn_client.hpp"

#include <doctest/doctest.h>

#include <mediagw/plugin.h>

#include <vector>

using namespace sipsofia;

namespace {

const uint8_t *bytes(const std::string &s) { return reinterpret_cast<const uint8_t *>(s.data()); }

// Runs the default main context for `ms` (the client's sockets and timers live there).
void pump(int ms = 40)
{
    const gint64 until = g_get_monotonic_time() + ms * 1000;
    while (g_get_monotonic_time() < until)
        if (!g_main_context_iteration(nullptr, FALSE))
            g_usleep(1000);
}

struct Socket {
    GSocket *socket = nullptr;
    GSocketAddress *address = nullptr;
    GSocketAddress *last_from = nullptr;
    Socket()
    {
        socket = g_socket_new(G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_DATAGRAM, G_SOCKET_PROTOCOL_UDP, nullptr);
        GInetAddress *lo = g_inet_address_new_loopback(G_SOCKET_FAMILY_IPV4);
        GSocketAddress *any = g_inet_socket_address_new(lo, 0);
        REQUIRE(g_socket_bind(socket, any, FALSE, nullptr));
        g_object_unref(any);
        g_object_unref(lo);
        address = g_socket_get_local_address(socket, nullptr);
        g_socket_set_blocking(socket, FALSE);
    }
    ~Socket()
    {
        g_clear_object(&last_from);
        g_clear_object(&address);
        g_clear_object(&socket);
    }
    int port() const { return g_inet_socket_address_get_port(G_INET_SOCKET_ADDRESS(address)); }
    // The next request the client sends (main loop running meanwhile), with its wire form.
    std::optional<std::pair<stun::Message, std::string>> next(int ms = 2000)
    {
        const gint64 until = g_get_monotonic_time() + ms * 1000;
        std::vector<char> buf(65536);
        while (g_get_monotonic_time() < until) {
            GSocketAddress *from = nullptr;
            const gssize n = g_socket_receive_from(socket, &from, buf.data(), buf.size(), nullptr, nullptr);
            if (n > 0) {
                g_clear_object(&last_from);
                last_from = from;
                std::string wire(buf.data(), static_cast<size_t>(n));
                if (auto m = stun::Message::parse(bytes(wire), wire.size()))
                    return std::make_pair(*m, wire);
                continue;
            }
            g_clear_object(&from);
            pump(5);
        }
        return std::nullopt;
    }
    void send(const std::string &wire, GSocketAddress *to)
    {
        REQUIRE(g_socket_send_to(socket, to, wire.data(), wire.size(), nullptr, nullptr) == gssize(wire.size()));
        pump();
    }
};

stun::Message answer(const stun::Message &request, stun::Class cls)
{
    stun::Message m = stun::Message::make(static_cast<stun::Method>(request.method), cls);
    m.transaction = request.transaction;
    return m;
}

stun::Message allocated(const stun::Message &request, int relay_port)
{
    stun::Message m = answer(request, stun::Success);
    REQUIRE(m.add_address(stun::XorRelayedAddress, {"127.0.0.1", relay_port}));
    REQUIRE(m.add_address(stun::XorMappedAddress, {"127.0.0.1", 40000}));
    m.add_u32(stun::Lifetime, 600);
    return m;
}

size_t count(const std::vector<std::string> &lines, const std::string &what)
{
    size_t n = 0;
    for (const auto &l : lines)
        n += l.find(what) != std::string::npos;
    return n;
}

} // namespace

TEST_CASE("an allocation takes only the server's authenticated answer to an outstanding request, once")
{
    Socket server, attacker;
    std::vector<std::string> logs;
    const std::string password = "s3cret-pass";
    TurnServerConfig config;
    config.uri = "turn:127.0.0.1:" + std::to_string(server.port());
    config.host = "127.0.0.1";
    config.port = server.port();
    config.username = "user";
    config.password = password;
    TurnClient client(config, [&logs](int, const std::string &m) { logs.push_back(m); }, "audio RTP");
    int done_calls = 0;
    std::string done_error = "not called";
    std::string error;
    REQUIRE(client.allocate(
        "127.0.0.1",
        [&](const std::string &e) {
            ++done_calls;
            done_error = e;
        },
        error));

    // The unauthenticated Allocate and its challenge; a forged challenge from elsewhere first.
    auto first = server.next();
    REQUIRE(first);
    CHECK_FALSE(first->first.find(stun::MessageIntegrity));
    GSocketAddress *client_address = G_SOCKET_ADDRESS(g_object_ref(server.last_from));
    stun::Message challenge = answer(first->first, stun::Error);
    challenge.add(stun::ErrorCode, std::string("\0\0\x04\x01", 4) + "Unauthorized");
    challenge.add(stun::Realm, "test");
    challenge.add(stun::Nonce, "nonce-1");
    stun::Message evil = challenge;
    evil.attributes[1].second = "evil";
    attacker.send(evil.encode(), client_address);
    server.send(challenge.encode(), client_address);

    // The authenticated Allocate, signed with MD5(user:test:password).
    std::optional<std::pair<stun::Message, std::string>> second;
    while ((second = server.next()) && second->first.transaction == first->first.transaction) {
    }
    REQUIRE(second);
    const stun::Message &request = second->first;
    const std::string key = stun::long_term_key("user", "test", password);
    CHECK(stun::integrity_ok(bytes(second->second), second->second.size(), key));
    CHECK(*request.find(stun::Realm) == "test");

    // Forgeries: each dropped, the allocation unchanged.
    attacker.send(allocated(request, 1111).encode(key), client_address);               // wrong source
    server.send(allocated(request, 1112).encode(), client_address);                    // no integrity
    server.send(allocated(request, 1113).encode(stun::long_term_key("user", "test", "x")), client_address); // wrong one
    stun::Message unknown = allocated(request, 1114);
    unknown.transaction[0] ^= 0xFF;
    server.send(unknown.encode(key), client_address);                                  // not our transaction
    stun::Message other_method = allocated(request, 1115);
    other_method.method = stun::Refresh;
    server.send(other_method.encode(key), client_address);                             // not what we asked
    server.send(allocated(request, 1116).encode(key).substr(0, 30), client_address);   // truncated
    std::string bad_fingerprint = allocated(request, 1117).encode(key, true);
    bad_fingerprint.back() ^= 1;
    server.send(bad_fingerprint, client_address);
    CHECK(done_calls == 0);
    CHECK_FALSE(client.allocated());

    // The genuine answer, then the same transaction replayed with another relay.
    server.send(allocated(request, 50000).encode(key), client_address);
    CHECK(done_calls == 1);
    CHECK(done_error.empty());
    CHECK(client.relayed() == stun::Address{"127.0.0.1", 50000});
    server.send(allocated(request, 50001).encode(key), client_address);
    server.send(allocated(request, 50002).encode(key), client_address);
    CHECK(done_calls == 1);
    CHECK(client.relayed() == stun::Address{"127.0.0.1", 50000});

    // Each kind logged once, no secret in any line.
    for (const char *kind : {"not from the TURN server's address", "no MESSAGE-INTEGRITY", "wrong MESSAGE-INTEGRITY",
                             "no outstanding request has its transaction id", "truncated", "bad FINGERPRINT"}) {
        INFO(kind);
        CHECK(count(logs, kind) == 1);
    }
    for (const auto &l : logs) {
        INFO(l);
        CHECK(l.find(password) == std::string::npos);
        CHECK(l.find(key) == std::string::npos);
    }

    // Deallocation is signed too.
    client.release();
    auto refresh = server.next(500);
    REQUIRE(refresh);
    CHECK(refresh->first.method == stun::Refresh);
    CHECK(refresh->first.u32(stun::Lifetime) == 0u);
    CHECK(stun::integrity_ok(bytes(refresh->second), refresh->second.size(), key));
    g_object_unref(client_address);
}

TEST_CASE("a forged challenge or failure cannot end an allocation that is not ours to end")
{
    Socket server, attacker;
    std::vector<std::string> logs;
    TurnServerConfig config;
    config.uri = "turn:127.0.0.1:" + std::to_string(server.port());
    config.host = "127.0.0.1";
    config.port = server.port();
    config.username = "user";
    config.password = "pw";
    TurnClient client(config, [&logs](int, const std::string &m) { logs.push_back(m); }, "audio RTCP");
    int done_calls = 0;
    std::string error;
    REQUIRE(client.allocate("127.0.0.1", [&](const std::string &) { ++done_calls; }, error));
    auto first = server.next();
    REQUIRE(first);
    GSocketAddress *client_address = G_SOCKET_ADDRESS(g_object_ref(server.last_from));
    // A 403 from elsewhere, a request instead of a response, and an unknown
    // comprehension-required attribute: none of them fails the allocation.
    stun::Message forbidden = answer(first->first, stun::Error);
    forbidden.add(stun::ErrorCode, std::string("\0\0\x04\x03", 4) + "Forbidden");
    attacker.send(forbidden.encode(), client_address);
    stun::Message request = first->first;
    server.send(request.encode(), client_address);
    stun::Message odd = answer(first->first, stun::Error);
    odd.add(stun::ErrorCode, std::string("\0\0\x04\x03", 4) + "Forbidden");
    odd.add(0x0031, "?");
    server.send(odd.encode(), client_address);
    CHECK(done_calls == 0);
    CHECK(count(logs, "not a response") == 1);
    CHECK(count(logs, "unknown comprehension-required") == 1);
    // The real 403 still ends it.
    server.send(forbidden.encode(), client_address);
    CHECK(done_calls == 1);
    g_object_unref(client_address);
}
