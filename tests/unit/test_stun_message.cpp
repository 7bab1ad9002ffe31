// The SIP leg's STUN/TURN framing (plugins/sip-sofia/stun_message.cpp):
// type encoding, XOR addresses (RFC 5769 section 2.2's value), long-term
// key, MESSAGE-INTEGRITY round trip.
#include "../../plugins/sip-sofia/stun_message.hpp"

#include <doctest/doctest.h>

using namespace sipsofia::stun;

namespace {
std::string hex(const std::string &s)
{
    static const char *digits = "0123456789abcdef";
    std::string out;
    for (unsigned char c : s) {
        out += digits[c >> 4];
        out += digits[c & 15];
    }
    return out;
}
const uint8_t *bytes(const std::string &s) { return reinterpret_cast<const uint8_t *>(s.data()); }
} // namespace

TEST_CASE("message types interleave method and class")
{
    auto type = [](Method m, Class c) { return hex(Message::make(m, c).encode().substr(0, 2)); };
    CHECK(type(Allocate, Request) == "0003");
    CHECK(type(Allocate, Success) == "0103");
    CHECK(type(Allocate, Error) == "0113");
    CHECK(type(Send, Indication) == "0016");
    CHECK(type(Data, Indication) == "0017");
    CHECK(type(ChannelBind, Request) == "0009");
    auto parsed = Message::parse(bytes(Message::make(CreatePermission, Error).encode()), 20);
    REQUIRE(parsed);
    CHECK(parsed->method == CreatePermission);
    CHECK(parsed->cls == Error);
}

TEST_CASE("XOR addresses: RFC 5769's 192.0.2.1:32853 and a round trip")
{
    Message m = Message::make(Allocate, Success);
    REQUIRE(m.add_address(XorMappedAddress, {"192.0.2.1", 32853}));
    CHECK(hex(*m.find(XorMappedAddress)) == "0001a147e112a643");
    REQUIRE(m.add_address(XorRelayedAddress, {"2001:db8::1", 3478}));
    const std::string wire = m.encode();
    auto back = Message::parse(bytes(wire), wire.size());
    REQUIRE(back);
    CHECK(back->address(XorMappedAddress) == Address{"192.0.2.1", 32853});
    CHECK(back->address(XorRelayedAddress) == Address{"2001:db8::1", 3478});
    CHECK_FALSE(m.add_address(XorPeerAddress, {"not an address", 1}));
}

TEST_CASE("long-term credentials: key and MESSAGE-INTEGRITY")
{
    const std::string key = long_term_key("user", "realm", "pass");
    CHECK(hex(key) == "8493fbc53ba582fb4c044c456bdc40eb");
    Message m = Message::make(Refresh, Request);
    m.add_u32(Lifetime, 600);
    m.add(Username, "user"); // 4 bytes: no padding
    m.add(Realm, "realm");   // 5 bytes: padded to 8
    std::string wire = m.encode(key);
    CHECK(wire.size() == 20 + 8 + 8 + 12 + 24);
    CHECK(integrity_ok(bytes(wire), wire.size(), key));
    CHECK_FALSE(integrity_ok(bytes(wire), wire.size(), long_term_key("user", "realm", "wrong")));
    wire[25] ^= 1; // the lifetime
    CHECK_FALSE(integrity_ok(bytes(wire), wire.size(), key));
    auto back = Message::parse(bytes(wire), wire.size());
    REQUIRE(back);
    CHECK(*back->find(Realm) == "realm");
}

TEST_CASE("errors and framing")
{
    Message m = Message::make(Allocate, Error);
    m.add(ErrorCode, std::string("\0\0\x04\x01Unauthorized", 16));
    const std::string wire = m.encode();
    auto back = Message::parse(bytes(wire), wire.size());
    REQUIRE(back);
    CHECK(back->error() == std::pair<int, std::string>{401, "Unauthorized"});
    CHECK_FALSE(Message::parse(bytes(wire), wire.size() - 4)); // truncated
    const uint8_t channel_data[] = {0x40, 0x00, 0x00, 0x01, 0xAA};
    CHECK(is_channel_data(channel_data, sizeof channel_data));
    CHECK_FALSE(is_stun(channel_data, sizeof channel_data));
}
