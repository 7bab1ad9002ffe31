// What the SIP leg's TURN client accepts (plugins/sip-sofia/nat/turn_checks.cpp):
// source address, integrity once authenticated, ChannelData framing and
// channel, Data indications.
#include "../../plugins/sip-sofia/nat/turn_checks.hpp"

#include <doctest/doctest.h>

using namespace sipsofia;
using stun::Problem;

namespace {
const uint8_t *bytes(const std::string &s) { return reinterpret_cast<const uint8_t *>(s.data()); }
// A literal with its NULs.
template <size_t N> std::string raw(const char (&a)[N]) { return std::string(a, N - 1); }

GSocketAddress *endpoint(const char *ip, guint16 port)
{
    GInetAddress *a = g_inet_address_new_from_string(ip);
    GSocketAddress *sa = g_inet_socket_address_new(a, port);
    g_object_unref(a);
    return sa;
}

Problem response_problem(const stun::Message &m, const std::string &wire_key, uint16_t method, const std::string &key)
{
    const std::string wire = m.encode(wire_key);
    auto parsed = stun::Message::parse(bytes(wire), wire.size());
    REQUIRE(parsed);
    return turn::check_response(bytes(wire), wire.size(), *parsed, method, key);
}

stun::Message error(uint16_t method, int code)
{
    stun::Message m = stun::Message::make(static_cast<stun::Method>(method), stun::Error);
    m.add(stun::ErrorCode, std::string("\0\0", 2) + static_cast<char>(code / 100) + static_cast<char>(code % 100) + "x");
    return m;
}
} // namespace

TEST_CASE("only the server's address and port are a source")
{
    GSocketAddress *server = endpoint("127.0.0.1", 3478), *same = endpoint("127.0.0.1", 3478),
                   *other_port = endpoint("127.0.0.1", 3479), *other_ip = endpoint("127.0.0.2", 3478),
                   *v6 = endpoint("::1", 3478);
    CHECK(turn::check_source(same, server) == Problem::None);
    CHECK(turn::check_source(other_port, server) == Problem::WrongSource);
    CHECK(turn::check_source(other_ip, server) == Problem::WrongSource);
    CHECK(turn::check_source(v6, server) == Problem::WrongSource);
    CHECK(turn::check_source(nullptr, server) == Problem::WrongSource); // no source known
    CHECK(turn::check_source(same, nullptr) == Problem::WrongSource);   // no server yet
    for (GSocketAddress *a : {server, same, other_port, other_ip, v6})
        g_object_unref(a);
}

TEST_CASE("responses after authentication need a valid MESSAGE-INTEGRITY")
{
    const std::string key = stun::long_term_key("user", "realm", "pass");
    stun::Message ok = stun::Message::make(stun::Allocate, stun::Success);
    ok.add_u32(stun::Lifetime, 600);
    CHECK(response_problem(ok, key, stun::Allocate, key) == Problem::None);
    CHECK(response_problem(ok, "", stun::Allocate, key) == Problem::MissingIntegrity);
    CHECK(response_problem(ok, stun::long_term_key("user", "realm", "guess"), stun::Allocate, key) ==
          Problem::BadIntegrity);
    // Before the challenge we hold no key: nothing to check yet.
    CHECK(response_problem(ok, "", stun::Allocate, "") == Problem::None);
    // 401 and 438 ask for (new) credentials and come unauthenticated; other errors do not.
    CHECK(response_problem(error(stun::Refresh, 401), "", stun::Refresh, key) == Problem::None);
    CHECK(response_problem(error(stun::Refresh, 438), "", stun::Refresh, key) == Problem::None);
    CHECK(response_problem(error(stun::Refresh, 400), "", stun::Refresh, key) == Problem::MissingIntegrity);
    CHECK(response_problem(error(stun::Refresh, 437), "", stun::Refresh, key) == Problem::MissingIntegrity);
    CHECK(response_problem(error(stun::Refresh, 403), key, stun::Refresh, key) == Problem::None);
    // A 401 that does carry one must carry a right one.
    CHECK(response_problem(error(stun::Refresh, 401), "wrong", stun::Refresh, key) == Problem::BadIntegrity);
}

TEST_CASE("a response must answer the method it claims to, and be a response")
{
    const std::string key = stun::long_term_key("user", "realm", "pass");
    stun::Message ok = stun::Message::make(stun::Refresh, stun::Success);
    CHECK(response_problem(ok, key, stun::ChannelBind, key) == Problem::UnknownTransaction);
    stun::Message request = stun::Message::make(stun::Refresh, stun::Request);
    CHECK(response_problem(request, key, stun::Refresh, key) == Problem::NotResponse);
    stun::Message indication = stun::Message::make(stun::Data, stun::Indication);
    CHECK(response_problem(indication, key, stun::Data, key) == Problem::NotResponse);
}

TEST_CASE("ChannelData: our bound channel, a length within the datagram")
{
    auto check = [](std::string wire, uint16_t bound, size_t *payload = nullptr, uint16_t requested = 0) {
        size_t n = 99;
        const Problem p = turn::check_channel_data(bytes(wire), wire.size(), bound, requested, n);
        if (payload)
            *payload = n;
        return p;
    };
    const std::string rtp(172, 'r'); // 12 + 160: a multiple of 4
    const std::string five = raw("\x40\x01\x00\x05" "hello");
    size_t n = 0;
    CHECK(check(raw("\x40\x01\x00\xAC") + rtp, 0x4001, &n) == Problem::None);
    CHECK(n == 172);
    CHECK(check(five, 0x4001, &n) == Problem::None);
    CHECK(n == 5);
    CHECK(check(five + std::string(3, '\0'), 0x4001) == Problem::None);           // padded to 8
    CHECK(check(five + std::string(4, '\0'), 0x4001) == Problem::BadChannel);     // more than padding
    CHECK(check(raw("\x40\x01\x00\x06" "hello"), 0x4001) == Problem::BadChannel);      // length past the end
    CHECK(check(raw("\x40\x01\xFF\xFF" "hello"), 0x4001) == Problem::BadChannel);
    CHECK(check(raw("\x40\x01\x00\x00"), 0x4001) == Problem::BadChannel); // empty
    CHECK(check(five, 0x4002) == Problem::BadChannel);                              // not the one we bound
    CHECK(check(five, 0) == Problem::BadChannel);                                   // none bound yet
    CHECK(check(five, 0, nullptr, 0x4001) == Problem::None);                        // its ChannelBind answer is on its way
    CHECK(check(five, 0x4002, nullptr, 0x4003) == Problem::BadChannel);
    CHECK(check(raw("\x50\x00\x00\x05" "hello"), 0x5000) == Problem::BadChannel);        // reserved range
    CHECK(check(raw("\x40\x01\x00"), 0x4001) == Problem::Truncated);
    CHECK(check("", 0x4001) == Problem::Truncated);
}

TEST_CASE("Data indications: DATA present, from the permitted peer's IP")
{
    const stun::Address peer{"192.0.2.10", 4000};
    auto indication = [](const std::string &from, const std::string &data) {
        stun::Message m = stun::Message::make(stun::Data, stun::Indication);
        if (!from.empty())
            REQUIRE(m.add_address(stun::XorPeerAddress, {from, 4002}));
        if (!data.empty())
            m.add(stun::DataAttr, data);
        const std::string wire = m.encode();
        auto parsed = stun::Message::parse(bytes(wire), wire.size());
        REQUIRE(parsed);
        return *parsed;
    };
    CHECK(turn::check_data_indication(indication("192.0.2.10", "rtp"), peer) == Problem::None); // any port: permissions are per IP
    CHECK(turn::check_data_indication(indication("192.0.2.11", "rtp"), peer) == Problem::BadData);
    CHECK(turn::check_data_indication(indication("", "rtp"), peer) == Problem::BadData);
    CHECK(turn::check_data_indication(indication("192.0.2.10", ""), peer) == Problem::BadData);
    CHECK(turn::check_data_indication(indication("192.0.2.10", "rtp"), std::nullopt) == Problem::BadData);
    const stun::Address v6{"2001:DB8::1", 4000}; // as SDP may spell it
    CHECK(turn::check_data_indication(indication("2001:db8::1", "rtp"), v6) == Problem::None);
    stun::Message send = stun::Message::make(stun::Send, stun::Indication);
    CHECK(turn::check_data_indication(send, peer) == Problem::BadData);
}
