#include "stun_message.hpp"

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

std::string Message::encode(const std::string &key) const
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
    return out;
}

std::optional<Message> Message::parse(const uint8_t *d, size_t len)
{
    if (!is_stun(d, len) || get32(d + 4) != kMagicCookie)
        return std::nullopt;
    const size_t body = get16(d + 2);
    if (body % 4 || kHeader + body > len)
        return std::nullopt;
    Message m;
    const uint16_t type = get16(d);
    m.method = static_cast<uint16_t>((type & 0x000F) | ((type & 0x00E0) >> 1) | ((type & 0x3E00) >> 2));
    m.cls = static_cast<Class>(((type >> 4) & 1) | ((type >> 7) & 2));
    std::memcpy(m.transaction.data(), d + 8, m.transaction.size());
    for (size_t at = kHeader; at + 4 <= kHeader + body;) {
        const uint16_t t = get16(d + at), n = get16(d + at + 2);
        if (at + 4 + n > kHeader + body)
            return std::nullopt;
        m.attributes.emplace_back(t, std::string(reinterpret_cast<const char *>(d + at + 4), n));
        at += 4 + n + (4 - n % 4) % 4;
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
    if ((!v6 && v->size() != 8) || (v6 && v->size() != 20))
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
    return {(p[2] & 0x7) * 100 + p[3], v->substr(4)};
}

bool integrity_ok(const uint8_t *d, size_t len, const std::string &key)
{
    if (!is_stun(d, len))
        return false;
    const size_t end = kHeader + get16(d + 2);
    if (end > len)
        return false;
    for (size_t at = kHeader; at + 4 <= end;) {
        const uint16_t t = get16(d + at), n = get16(d + at + 2);
        if (t == MessageIntegrity && n == 20 && at + 24 <= end) {
            // Hashed with the length as if MESSAGE-INTEGRITY were the last attribute.
            std::string copy(reinterpret_cast<const char *>(d), at);
            const uint16_t l = static_cast<uint16_t>(at + 24 - kHeader);
            copy[2] = static_cast<char>(l >> 8);
            copy[3] = static_cast<char>(l & 0xFF);
            const std::string mac = hmac_sha1(key, reinterpret_cast<const uint8_t *>(copy.data()), copy.size());
            return std::memcmp(mac.data(), d + at + 4, 20) == 0;
        }
        at += 4 + n + (4 - n % 4) % 4;
    }
    return false;
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
