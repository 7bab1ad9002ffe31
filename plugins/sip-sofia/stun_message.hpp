// STUN messages (RFC 8489) with the TURN methods and attributes (RFC 8656)
// the SIP leg's TURN client needs, and TURN ChannelData framing. Pure byte
// work, no sockets: turn_client.cpp sends and receives them.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace sipsofia::stun {

enum Method : uint16_t { Allocate = 0x3, Refresh = 0x4, Send = 0x6, Data = 0x7, CreatePermission = 0x8, ChannelBind = 0x9 };
enum Class : uint16_t { Request = 0, Indication = 1, Success = 2, Error = 3 };
enum Attribute : uint16_t {
    Username = 0x0006,
    MessageIntegrity = 0x0008,
    ErrorCode = 0x0009,
    ChannelNumber = 0x000C,
    Lifetime = 0x000D,
    XorPeerAddress = 0x0012,
    DataAttr = 0x0013,
    Realm = 0x0014,
    Nonce = 0x0015,
    XorRelayedAddress = 0x0016,
    RequestedTransport = 0x0019,
    XorMappedAddress = 0x0020,
    Software = 0x8022,
};

struct Address {
    std::string ip; // "203.0.113.1" or "2001:db8::1"
    int port = 0;
    bool operator==(const Address &) const = default;
    std::string text() const; // "ip:port" ("[ip]:port" for IPv6)
};

using TransactionId = std::array<uint8_t, 12>;

struct Message {
    uint16_t method = 0;
    Class cls = Request;
    TransactionId transaction{};
    std::vector<std::pair<uint16_t, std::string>> attributes;

    // A request or indication with a random transaction id.
    static Message make(Method method, Class cls);
    void add(uint16_t type, std::string value) { attributes.emplace_back(type, std::move(value)); }
    void add_u32(uint16_t type, uint32_t value);
    bool add_address(uint16_t type, const Address &a); // XOR-encoded; false for a bad IP

    // Wire form; with a `key`, ends with MESSAGE-INTEGRITY (HMAC-SHA1).
    std::string encode(const std::string &key = "") const;
    // Parses a whole message; nullopt when `data` is not STUN.
    static std::optional<Message> parse(const uint8_t *data, size_t len);

    const std::string *find(uint16_t type) const;
    std::optional<uint32_t> u32(uint16_t type) const;
    std::optional<Address> address(uint16_t type) const; // XOR-decoded
    // ERROR-CODE as (code, reason), e.g. (401, "Unauthorized"); (0, "") when absent.
    std::pair<int, std::string> error() const;
};

// Checks MESSAGE-INTEGRITY of raw message `data` with `key`; true when it
// matches (false when absent or wrong).
bool integrity_ok(const uint8_t *data, size_t len, const std::string &key);

// The long-term credential key: MD5(username ":" realm ":" password).
std::string long_term_key(const std::string &username, const std::string &realm, const std::string &password);

// First byte 0b00 (STUN) or 0b01 (ChannelData, channels 0x4000-0x4FFF).
inline bool is_stun(const uint8_t *d, size_t len) { return len >= 20 && (d[0] & 0xC0) == 0; }
inline bool is_channel_data(const uint8_t *d, size_t len) { return len >= 4 && (d[0] & 0xC0) == 0x40; }

constexpr uint16_t kFirstChannel = 0x4000, kLastChannel = 0x4FFF;

} // namespace sipsofia::stun
