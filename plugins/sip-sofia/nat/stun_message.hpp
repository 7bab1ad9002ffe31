// STUN messages (RFC 8489) with the TURN methods and attributes (RFC 8656)
// the SIP leg's TURN client needs, and TURN ChannelData framing. Pure byte
// work, no sockets: turn_client.cpp sends and receives them.
//
// Hand-written rather than libnice's stun/ API (linked by this plugin for
// ICE): libnice's StunAgent keeps transactions in a fixed table holding raw
// key pointers, is not thread-safe (we parse on streaming threads too), and
// its validation accepts responses we must refuse once authenticated (400
// and 300 without MESSAGE-INTEGRITY); it checks FINGERPRINT only when every
// message must carry one. Its table would duplicate the client's own
// retransmission bookkeeping, and the libnice/Sofia-SIP symbol clash
// (stun_message_length) makes each libnice stun_* call in this module one
// more thing that only the link order keeps right. The parser below is
// small, bounded (see parse()) and fuzzed (tests/fuzz/fuzz_stun.cpp).
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
    Fingerprint = 0x8028,
};

// Why a datagram was refused. parse() names the first four kinds; the TURN
// client's checks (turn_checks.hpp) the rest.
enum class Problem : uint8_t {
    None,
    Truncated,         // shorter than a header, or than its length field says
    NotStun,           // top bits or magic cookie wrong
    BadLength,         // length not a multiple of 4, or bytes after the message
    AttributePastEnd,  // an attribute (with its padding) runs past the message
    BadFingerprint,    // FINGERPRINT wrong, misplaced, or not 4 bytes
    UnknownRequired,   // a comprehension-required attribute we do not know
    WrongSource,       // not from the TURN server's address and port
    NotResponse,       // a request or an indication where a response belongs
    UnknownTransaction, // no outstanding request of ours has this id (or it was answered)
    MissingIntegrity,  // no MESSAGE-INTEGRITY though we authenticated the request
    BadIntegrity,      // MESSAGE-INTEGRITY wrong
    BadChannel,        // ChannelData on a channel we did not bind, or a wrong length
    BadData,           // a Data indication without DATA or from a peer we did not permit
    Count,
};
const char *describe(Problem p);

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
    // As received: only what precedes MESSAGE-INTEGRITY (and it), the rest
    // is unauthenticated and left out (RFC 8489 section 14.5).
    std::vector<std::pair<uint16_t, std::string>> attributes;
    size_t integrity_at = 0; // parsed: MESSAGE-INTEGRITY's offset, 0 = absent
    bool has_fingerprint = false; // parsed: a FINGERPRINT was present (and right)

    // A request or indication with a random transaction id.
    static Message make(Method method, Class cls);
    void add(uint16_t type, std::string value) { attributes.emplace_back(type, std::move(value)); }
    void add_u32(uint16_t type, uint32_t value);
    bool add_address(uint16_t type, const Address &a); // XOR-encoded; false for a bad IP

    // Wire form; with a `key`, ends with MESSAGE-INTEGRITY (HMAC-SHA1), then
    // FINGERPRINT if asked for.
    std::string encode(const std::string &key = "", bool with_fingerprint = false) const;
    // Parses one whole datagram; nullopt (and why) when it is not exactly one
    // well-formed STUN message.
    static std::optional<Message> parse(const uint8_t *data, size_t len, Problem *why = nullptr);

    const std::string *find(uint16_t type) const;
    std::optional<uint32_t> u32(uint16_t type) const;
    // XOR-decoded; nullopt unless IPv4 in 8 bytes or IPv6 in 20.
    std::optional<Address> address(uint16_t type) const;
    // ERROR-CODE as (code, reason), e.g. (401, "Unauthorized"); (0, "") when
    // absent or malformed. The reason keeps printable ASCII only (it is logged).
    std::pair<int, std::string> error() const;
};

// MESSAGE-INTEGRITY of `m`, parsed from `data`, against `key`; false when
// absent or wrong.
bool integrity_ok(const uint8_t *data, size_t len, const Message &m, const std::string &key);
// The same for raw bytes (parsed first).
bool integrity_ok(const uint8_t *data, size_t len, const std::string &key);

// The long-term credential key: MD5(username ":" realm ":" password).
std::string long_term_key(const std::string &username, const std::string &realm, const std::string &password);

// RFC 8489 section 14.7: CRC-32 of `data` XOR 0x5354554e.
uint32_t fingerprint(const uint8_t *data, size_t len);

// First byte 0b00 (STUN) or 0b01 (ChannelData, channels 0x4000-0x4FFF).
inline bool is_stun(const uint8_t *d, size_t len) { return len >= 20 && (d[0] & 0xC0) == 0; }
inline bool is_channel_data(const uint8_t *d, size_t len) { return len >= 4 && (d[0] & 0xC0) == 0x40; }

constexpr uint16_t kFirstChannel = 0x4000, kLastChannel = 0x4FFF;

} // namespace sipsofia::stun
