// The SIP leg's STUN/TURN framing (plugins/sip-sofia/nat/stun_message.cpp):
// type encoding, XOR addresses (RFC 5769 section 2.2's value), long-term
// key, MESSAGE-INTEGRITY round trip.
#include "../../plugins/sip-sofia/nat/stun_message.hpp"

#include <doctest/doctest.h>

#include <glib.h>

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

// --- Hostile input: every way parse() refuses a datagram (issue 10) ---

namespace {
std::string unhex(const std::string &h)
{
    std::string out;
    for (size_t i = 0; i + 1 < h.size(); i += 2)
        out += static_cast<char>(std::stoi(h.substr(i, 2), nullptr, 16));
    return out;
}
Problem why_not(const std::string &wire)
{
    Problem p = Problem::None;
    CHECK_FALSE(Message::parse(bytes(wire), wire.size(), &p));
    return p;
}
void set_length(std::string &wire, size_t body)
{
    wire[2] = static_cast<char>(body >> 8);
    wire[3] = static_cast<char>(body & 0xFF);
}
// RFC 5769 section 2.2: a Binding success response with MESSAGE-INTEGRITY
// (key "VOkJxbRl1RmTxUk/WvJxBt") and FINGERPRINT.
const std::string kRfc5769Response = unhex("0101003c2112a442b7e7a701bc34d686fa87dfae"
                                           "8022000b" "7465737420766563746f7220"
                                           "00200008" "0001a147e112a643"
                                           "00080014" "2b91f599fd9e90c38c7489f92af9ba53f06be7d7"
                                           "80280004" "c07d4c96");
} // namespace

TEST_CASE("RFC 5769 test vector: integrity and fingerprint check out")
{
    Problem p = Problem::Truncated;
    auto m = Message::parse(bytes(kRfc5769Response), kRfc5769Response.size(), &p);
    REQUIRE(m);
    CHECK(p == Problem::None);
    CHECK(m->has_fingerprint);
    CHECK(m->integrity_at == 20 + 16 + 12);
    CHECK(m->address(XorMappedAddress) == Address{"192.0.2.1", 32853});
    CHECK(integrity_ok(bytes(kRfc5769Response), kRfc5769Response.size(), *m, "VOkJxbRl1RmTxUk/WvJxBt"));
    CHECK_FALSE(integrity_ok(bytes(kRfc5769Response), kRfc5769Response.size(), *m, "VOkJxbRl1RmTxUk/WvJxBT"));
}

TEST_CASE("truncated headers and lengths that do not match the datagram")
{
    const std::string wire = Message::make(Allocate, Success).encode();
    for (size_t n = 0; n < 20; ++n)
        CHECK(why_not(wire.substr(0, n)) == Problem::Truncated);
    CHECK_FALSE(Message::parse(nullptr, 20));
    std::string longer = wire;
    set_length(longer, 8); // says 8 bytes of attributes, has none
    CHECK(why_not(longer) == Problem::Truncated);
    std::string odd = wire + std::string(4, '\0');
    set_length(odd, 2); // not a multiple of 4
    CHECK(why_not(odd) == Problem::BadLength);
    CHECK(why_not(wire + std::string(4, '\0')) == Problem::BadLength); // bytes after the message
}

TEST_CASE("bad magic cookie, or not STUN at all")
{
    std::string wire = Message::make(Allocate, Success).encode();
    wire[4] ^= 0x01;
    CHECK(why_not(wire) == Problem::NotStun);
    std::string channel_data = Message::make(Allocate, Success).encode();
    channel_data[0] = 0x40;
    CHECK(why_not(channel_data) == Problem::NotStun);
}

TEST_CASE("an attribute length past the end of the message")
{
    Message m = Message::make(Allocate, Success);
    m.add_u32(Lifetime, 600);
    std::string wire = m.encode();
    wire[20 + 3] = 8; // LIFETIME claims 8 bytes, the message holds 4
    CHECK(why_not(wire) == Problem::AttributePastEnd);
    wire[20 + 3] = 5; // 5 bytes + 3 of padding: still past the end
    CHECK(why_not(wire) == Problem::AttributePastEnd);
    wire[20 + 2] = static_cast<char>(0xFF); // 65285 bytes
    CHECK(why_not(wire) == Problem::AttributePastEnd);
    std::string mi = Message::make(Allocate, Success).encode("key");
    mi[20 + 3] = 16; // MESSAGE-INTEGRITY must be 20 bytes
    mi += std::string(4, '\0');
    set_length(mi, 28);
    CHECK(why_not(mi) == Problem::AttributePastEnd);
}

TEST_CASE("unknown comprehension-required attributes refuse the message, optional ones do not")
{
    Message m = Message::make(Allocate, Success);
    m.add(0x8030, "optional");
    CHECK(Message::parse(bytes(m.encode()), m.encode().size()));
    m.add(0x0030, "required");
    CHECK(why_not(m.encode()) == Problem::UnknownRequired);
}

TEST_CASE("FINGERPRINT: checked where present, last")
{
    Message m = Message::make(Refresh, Success);
    m.add_u32(Lifetime, 600);
    const std::string wire = m.encode("key", true);
    auto back = Message::parse(bytes(wire), wire.size());
    REQUIRE(back);
    CHECK(back->has_fingerprint);
    CHECK(integrity_ok(bytes(wire), wire.size(), "key")); // FINGERPRINT after it does not disturb it
    std::string bad = wire;
    bad[bad.size() - 1] ^= 1;
    CHECK(why_not(bad) == Problem::BadFingerprint);
    std::string changed = wire;
    changed[27] ^= 1; // the lifetime: the CRC no longer matches
    CHECK(why_not(changed) == Problem::BadFingerprint);
    std::string after = wire + unhex("80220004") + "abcd"; // SOFTWARE after FINGERPRINT
    set_length(after, after.size() - 20);
    CHECK(why_not(after) == Problem::BadFingerprint);
}

TEST_CASE("attributes after MESSAGE-INTEGRITY are left out: they are not authenticated")
{
    Message m = Message::make(Allocate, Success);
    m.add_u32(Lifetime, 600);
    std::string wire = m.encode("key");
    std::string forged;
    {
        Message extra = Message::make(Allocate, Success);
        extra.transaction = m.transaction;
        REQUIRE(extra.add_address(XorRelayedAddress, {"198.51.100.7", 5000}));
        forged = extra.encode().substr(20);
    }
    wire += forged;
    set_length(wire, wire.size() - 20);
    auto back = Message::parse(bytes(wire), wire.size());
    REQUIRE(back);
    CHECK(integrity_ok(bytes(wire), wire.size(), *back, "key"));
    CHECK_FALSE(back->address(XorRelayedAddress));
    CHECK(back->u32(Lifetime) == 600u);
}

TEST_CASE("XOR addresses with a wrong family or length are refused")
{
    Message m = Message::make(Allocate, Success);
    REQUIRE(m.add_address(XorRelayedAddress, {"192.0.2.1", 32853}));
    std::string v4 = *m.find(XorRelayedAddress);
    auto with = [&m](std::string value) {
        Message x = m;
        x.attributes = {{XorRelayedAddress, std::move(value)}};
        const std::string wire = x.encode();
        auto back = Message::parse(bytes(wire), wire.size());
        REQUIRE(back);
        return back->address(XorRelayedAddress);
    };
    CHECK(with(v4) == Address{"192.0.2.1", 32853});
    std::string family3 = v4;
    family3[1] = 3;
    CHECK_FALSE(with(family3));
    std::string v6_short = v4;
    v6_short[1] = 2; // IPv6 in 8 bytes
    CHECK_FALSE(with(v6_short));
    CHECK_FALSE(with(v4 + std::string(12, '\0'))); // IPv4 in 20 bytes
    CHECK_FALSE(with(v4.substr(0, 6)));
    CHECK_FALSE(with(""));
}

TEST_CASE("ERROR-CODE: out-of-range codes are no codes; the reason is made printable")
{
    Message m = Message::make(Allocate, Error);
    m.add(ErrorCode, std::string("\0\0\x04\x26Stale\x1b[31m\xff", 15));
    CHECK(m.error() == std::pair<int, std::string>{438, "Stale?[31m?"});
    Message big = Message::make(Allocate, Error);
    big.add(ErrorCode, std::string("\0\0\x07\x01x", 5)); // class 7
    CHECK(big.error().first == 0);
    Message number = Message::make(Allocate, Error);
    number.add(ErrorCode, std::string("\0\0\x04\x64x", 5)); // number 100
    CHECK(number.error().first == 0);
}

TEST_CASE("the fuzz seeds (coturn's own bytes) parse as they should")
{
    auto seed = [](const char *name) {
        gchar *text = nullptr;
        gsize n = 0;
        const std::string path = std::string(MGW_STUN_CORPUS) + "/" + name;
        REQUIRE(g_file_get_contents(path.c_str(), &text, &n, nullptr));
        std::string out(text, n);
        g_free(text);
        return out;
    };
    const std::string success = seed("allocate-success");
    auto m = Message::parse(bytes(success), success.size());
    REQUIRE(m);
    CHECK(m->cls == Success);
    CHECK(m->method == Allocate);
    CHECK(m->integrity_at != 0);
    CHECK(m->has_fingerprint);
    REQUIRE(m->address(XorRelayedAddress));
    CHECK(m->address(XorRelayedAddress)->ip == "127.0.0.1");
    const std::string challenge = seed("allocate-error-401");
    auto e = Message::parse(bytes(challenge), challenge.size());
    REQUIRE(e);
    CHECK(e->error().first == 401);
    CHECK(*e->find(Realm) == "test");
    for (const char *name : {"allocate-request", "allocate-request-unauthenticated", "channelbind-request",
                             "channelbind-success"}) {
        INFO(name);
        const std::string wire = seed(name);
        CHECK(Message::parse(bytes(wire), wire.size()));
    }
    const std::string channel_data = seed("channeldata");
    CHECK(is_channel_data(bytes(channel_data), channel_data.size()));
    CHECK_FALSE(Message::parse(bytes(channel_data), channel_data.size()));
}
