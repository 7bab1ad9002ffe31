#include "nat/stun_message.hpp"

#include <gio/gio.h>
#include <glib.h>

#include <cstring>

namespace sipsofia::stun {

namespace {

constexpr uint32_t kMagicCookie = 0x2112A442;
constexpr size_t kHeader = 20;

void put16(std::string &s, uint16_t v)
{
    s += static_cast<char>(v >> 8);
    s += static_cast<char>(v & 0xFF);
}

void put32(std::string &s, uint32_t v)
{
    put16(s, static_cast<uint16_t>(v >> 16));
    put16(s, static_cast<uint16_t>(v & 0xFFFF));
}

uint16_t get16(const uint8_t *p) { return static_cast<uint16_t>(p[0] << 8 | p[1]); }
uint32_t get32(const uint8_t *p) { return static_cast<uint32_t>(get16(p)) << 16 | get16(p + 2); }

// The type field interleaves method and class bits (RFC 8489 section 5).
uint16_t type_of(uint16_t method, Class cls)
{
    const uint16_t c = static_cast<uint16_t>(cls);
    return static_cast<uint16_t>((method & 0x000F) | ((method & 0x0070) << 1) | ((method & 0x0F80) << 2) |
                                 ((c & 1) << 4) | ((c & 2) << 7));
}

std::string hmac_sha1(const std::string &key, const uint8_t *data, size_t len)
{
    GHmac *h = g_hmac_new(G_CHECKSUM_SHA1, reinterpret_cast<const guchar *>(key.data()), key.size());
    g_hmac_update(h, data, static_cast<gssize>(len));
    guint8 digest[20];
    gsize n = sizeof digest;
    g_hmac_get_digest(h, digest, &n);
    g_hmac_unref(h);
    return std::string(reinterpret_cast<char *>(digest), n);
}

// The comprehension-required attributes (below 0x8000) we may meet in STUN
// and TURN (RFC 8489, RFC 8656); any other makes a message unusable
// (RFC 8489 section 7.3).
bool known_required(uint16_t t)
{
    switch (t) {
    case 0x0001: // MAPPED-ADDRESS
    case Username:
    case MessageIntegrity:
    case ErrorCode:
    case 0x000A: // UNKNOWN-ATTRIBUTES
    case ChannelNumber:
    case Lifetime:
    case XorPeerAddress:
    case DataAttr:
    case Realm:
    case Nonce:
    case XorRelayedAddress:
    case 0x0017: // REQUESTED-ADDRESS-FAMILY
    case 0x0018: // EVEN-PORT
    case RequestedTransport:
    case 0x001A: // DONT-FRAGMENT
    case XorMappedAddress:
    case 0x0022: // RESERVATION-TOKEN
        return true;
    default:
        return false;
    }
}

} // namespace

std::string Address::text() const
{
    return (ip.find(':') != std::string::npos ? "[" + ip + "]" : ip) + ":" + std::to_string(port);
}

Message Message::make(Method method, Class cls)
{
    Message m;
    m.method = method;
    m.cls = cls;
    for (auto &b : m.transaction)
        b = static_cast<uint8_t>(g_random_int_range(0, 256));
    return m;
}

void Message::add_u32(uint16_t type, uint32_t value)
{
    std::string v;
    put32(v, value);
    add(type, v);
}

bool Message::add_address(uint16_t type, const Address &a)
{
    GInetAddress *ia = g_inet_address_new_from_string(a.ip.c_str());
    if (!ia)
        return false;
    const bool v6 = g_inet_address_get_family(ia) == G_SOCKET_FAMILY_IPV6;
    const auto *raw = g_inet_address_to_bytes(ia);
    std::string v;
    put16(v, v6 ? 2 : 1);
    put16(v, static_cast<uint16_t>(a.port ^ (kMagicCookie >> 16)));
    uint8_t mask[16]; // the cookie, then the transaction id
    for (int i = 0; i < 4; ++i)
        mask[i] = static_cast<uint8_t>(kMagicCookie >> (24 - 8 * i));
    std::memcpy(mask + 4, transaction.data(), transaction.size());
    for (size_t i = 0; i < (v6 ? 16u : 4u); ++i)
        v += static_cast<char>(raw[i] ^ mask[i]);
    g_object_unref(ia);
    add(type, v);
    return true;
}

std::string Message::encode(const std::string &key, bool with_fingerprint) const
{
    std::string body;
    for (const auto &[type, value] : attributes) {
        put16(body, type);
        put16(body, static_cast<uint16_t>(value.size()));
        body += value;
        body.append((4 - value.size() % 4) % 4, '\0');
    }
    std::string out;
    put16(out, type_of(method, cls));
    // With integrity, the length already counts the 24-byte attribute it hashes up to.
    put16(out, static_cast<uint16_t>(body.size() + (key.empty() ? 0 : 24)));
    put32(out, kMagicCookie);
    out.append(reinterpret_cast<const char *>(transaction.data()), transaction.size());
    out += body;
    if (!key.empty()) {
        const std::string mac = hmac_sha1(key, reinterpret_cast<const uint8_t *>(out.data()), out.size());
        put16(out, MessageIntegrity);
        put16(out, 20);
        out += mac;
    }
    if (with_fingerprint) {
        const uint16_t l = static_cast<uint16_t>(out.size() + 8 - kHeader);
        out[2] = static_cast<char>(l >> 8);
        out[3] = static_cast<char>(l & 0xFF);
        const uint32_t crc = fingerprint(reinterpret_cast<const uint8_t *>(out.data()), out.size());
        put16(out, Fingerprint);
        put16(out, 4);
        put32(out, crc);
    }
    return out;
}

// Bounded by construction: `at` only grows, by 4 plus a value length that
// was first checked against what is left of the message (`end - at`), and
// `end` is the datagram's length; every read lies in [at, at + 4 + padded).
std::optional<Message> Message::parse(const uint8_t *d, size_t len, Problem *why)
{
    auto fail = [why](Problem p) -> std::optional<Message> {
        if (why)
            *why = p;
        return std::nullopt;
    };
    if (why)
        *why = Problem::None;
    if (!d || len < kHeader)
        return fail(Problem::Truncated);
    if ((d[0] & 0xC0) != 0 || get32(d + 4) != kMagicCookie)
        return fail(Problem::NotStun);
    const size_t body = get16(d + 2);
    if (body % 4)
        return fail(Problem::BadLength);
    if (kHeader + body > len)
        return fail(Problem::Truncated);
    if (kHeader + body != len) // one message per datagram, nothing after it
        return fail(Problem::BadLength);
    Message m;
    const uint16_t type = get16(d);
    m.method = static_cast<uint16_t>((type & 0x000F) | ((type & 0x00E0) >> 1) | ((type & 0x3E00) >> 2));
    m.cls = static_cast<Class>(((type >> 4) & 1) | ((type >> 7) & 2));
    std::memcpy(m.transaction.data(), d + 8, m.transaction.size());
    const size_t end = len;
    for (size_t at = kHeader; at < end;) {
        if (end - at < 4)
            return fail(Problem::AttributePastEnd);
        const uint16_t t = get16(d + at);
        const size_t n = get16(d + at + 2), padded = n + (4 - n % 4) % 4;
        if (padded > end - at - 4)
            return fail(Problem::AttributePastEnd);
        if (m.has_fingerprint) // FINGERPRINT is last (RFC 8489 section 14.7)
            return fail(Problem::BadFingerprint);
        const uint8_t *value = d + at + 4;
        if (t == Fingerprint) {
            // The length field already ends with it: hash everything before.
            if (n != 4 || get32(value) != fingerprint(d, at))
                return fail(Problem::BadFingerprint);
            m.has_fingerprint = true;
        } else if (m.integrity_at) {
            // After MESSAGE-INTEGRITY: unauthenticated, ignored (RFC 8489 section 14.5).
        } else {
            if (t < 0x8000 && !known_required(t))
                return fail(Problem::UnknownRequired);
            if (t == MessageIntegrity) {
                if (n != 20)
                    return fail(Problem::AttributePastEnd);
                m.integrity_at = at;
            }
            m.attributes.emplace_back(t, std::string(reinterpret_cast<const char *>(value), n));
        }
        at += 4 + padded;
    }
    return m;
}

const std::string *Message::find(uint16_t type) const
{
    for (const auto &[t, v] : attributes)
        if (t == type)
            return &v;
    return nullptr;
}

std::optional<uint32_t> Message::u32(uint16_t type) const
{
    const std::string *v = find(type);
    if (!v || v->size() != 4)
        return std::nullopt;
    return get32(reinterpret_cast<const uint8_t *>(v->data()));
}

std::optional<Address> Message::address(uint16_t type) const
{
    const std::string *v = find(type);
    if (!v || v->size() < 8)
        return std::nullopt;
    const auto *p = reinterpret_cast<const uint8_t *>(v->data());
    const bool v6 = p[1] == 2;
    if ((p[1] != 1 && p[1] != 2) || v->size() != (v6 ? 20u : 8u))
        return std::nullopt;
    uint8_t mask[16], raw[16];
    for (int i = 0; i < 4; ++i)
        mask[i] = static_cast<uint8_t>(kMagicCookie >> (24 - 8 * i));
    std::memcpy(mask + 4, transaction.data(), transaction.size());
    for (size_t i = 0; i < (v6 ? 16u : 4u); ++i)
        raw[i] = p[4 + i] ^ mask[i];
    GInetAddress *ia = g_inet_address_new_from_bytes(raw, v6 ? G_SOCKET_FAMILY_IPV6 : G_SOCKET_FAMILY_IPV4);
    gchar *ip = g_inet_address_to_string(ia);
    Address a{ip, get16(p + 2) ^ static_cast<int>(kMagicCookie >> 16)};
    g_free(ip);
    g_object_unref(ia);
    return a;
}

std::pair<int, std::string> Message::error() const
{
    const std::string *v = find(ErrorCode);
    if (!v || v->size() < 4)
        return {0, ""};
    const auto *p = reinterpret_cast<const uint8_t *>(v->data());
    const int cls = p[2] & 0x7, number = p[3];
    if (cls < 3 || cls > 6 || number > 99)
        return {0, ""};
    std::string reason;
    for (size_t i = 4; i < v->size() && reason.size() < 128; ++i) {
        const char c = (*v)[i];
        reason += c >= 0x20 && c < 0x7F ? c : '?';
    }
    return {cls * 100 + number, reason};
}

bool integrity_ok(const uint8_t *d, size_t len, const Message &m, const std::string &key)
{
    const size_t at = m.integrity_at;
    if (!d || at < kHeader || at + 24 > len || key.empty())
        return false;
    // Hashed with the length as if MESSAGE-INTEGRITY were the last attribute.
    std::string copy(reinterpret_cast<const char *>(d), at);
    const uint16_t l = static_cast<uint16_t>(at + 24 - kHeader);
    copy[2] = static_cast<char>(l >> 8);
    copy[3] = static_cast<char>(l & 0xFF);
    const std::string mac = hmac_sha1(key, reinterpret_cast<const uint8_t *>(copy.data()), copy.size());
    uint8_t diff = 0; // every byte compared: no early exit to time
    for (size_t i = 0; i < 20; ++i)
        diff |= static_cast<uint8_t>(static_cast<uint8_t>(mac[i]) ^ d[at + 4 + i]);
    return diff == 0;
}

bool integrity_ok(const uint8_t *d, size_t len, const std::string &key)
{
    auto m = Message::parse(d, len);
    return m && integrity_ok(d, len, *m, key);
}

uint32_t fingerprint(const uint8_t *d, size_t len)
{
    uint32_t crc = 0xFFFFFFFFu; // CRC-32 (ISO 3309), bit by bit: control messages only
    for (size_t i = 0; i < len; ++i) {
        crc ^= d[i];
        for (int b = 0; b < 8; ++b)
            crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1u)));
    }
    return ~crc ^ 0x5354554Eu;
}

const char *describe(Problem p)
{
    switch (p) {
    case Problem::None: return "accepted";
    case Problem::Truncated: return "truncated";
    case Problem::NotStun: return "not STUN (bad first bits or magic cookie)";
    case Problem::BadLength: return "message length does not match the datagram";
    case Problem::AttributePastEnd: return "an attribute runs past the message";
    case Problem::BadFingerprint: return "bad FINGERPRINT";
    case Problem::UnknownRequired: return "an unknown comprehension-required attribute";
    case Problem::WrongSource: return "not from the TURN server's address";
    case Problem::NotResponse: return "not a response";
    case Problem::UnknownTransaction: return "no outstanding request has its transaction id";
    case Problem::MissingIntegrity: return "no MESSAGE-INTEGRITY";
    case Problem::BadIntegrity: return "wrong MESSAGE-INTEGRITY";
    case Problem::BadChannel: return "ChannelData on a channel we did not bind, or with a wrong length";
    case Problem::BadData: return "a Data indication without data or from a peer we did not permit";
    case Problem::Count: break;
    }
    return "?";
}

std::string long_term_key(const std::string &username, const std::string &realm, const std::string &password)
{
    const std::string text = username + ":" + realm + ":" + password;
    GChecksum *md5 = g_checksum_new(G_CHECKSUM_MD5);
    g_checksum_update(md5, reinterpret_cast<const guchar *>(text.data()), static_cast<gssize>(text.size()));
    guint8 digest[16];
    gsize n = sizeof digest;
    g_checksum_get_digest(md5, digest, &n);
    g_checksum_free(md5);
    return std::string(reinterpret_cast<char *>(digest), n);
}

} // namespace sipsofia::stun
