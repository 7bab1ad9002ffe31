#include "sdp/srtp.hpp"

#include <sys/random.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <vector>

namespace sipsofia {

namespace {

// RFC 4568 section 6.2: both suites use AES-128 counter mode; the _32 one
// has a short RTP tag only, SRTCP keeps 80 bits.
const char *rtp_auth(const std::string &suite)
{
    return suite == "AES_CM_128_HMAC_SHA1_32" ? "hmac-sha1-32" : "hmac-sha1-80";
}

bool known_suite(const std::string &suite)
{
    return suite == "AES_CM_128_HMAC_SHA1_80" || suite == "AES_CM_128_HMAC_SHA1_32";
}

GstBuffer *key_buffer(const std::string &key) { return gst_buffer_new_memdup(key.data(), key.size()); }

// srtpdec: the key for a new SSRC. One key per direction in SDES, whatever
// the SSRC.
GstCaps *on_request_key(GstElement *, guint, gpointer data)
{
    auto s = static_cast<const SrtpSession *>(data);
    GstBuffer *key = key_buffer(s->remote_key);
    GstCaps *caps = gst_caps_new_simple("application/x-srtp", "srtp-key", GST_TYPE_BUFFER, key, "srtp-cipher",
                                        G_TYPE_STRING, "aes-128-icm", "srtp-auth", G_TYPE_STRING,
                                        rtp_auth(s->suite), "srtcp-cipher", G_TYPE_STRING, "aes-128-icm",
                                        "srtcp-auth", G_TYPE_STRING, "hmac-sha1-80", nullptr);
    gst_buffer_unref(key);
    return caps;
}

} // namespace

std::optional<SrtpMode> parse_srtp_mode(const std::string &text)
{
    if (text == "off")
        return SrtpMode::Off;
    if (text == "optional")
        return SrtpMode::Optional;
    if (text == "required")
        return SrtpMode::Required;
    return std::nullopt;
}

std::optional<SrtpCrypto> parse_crypto(const char *value)
{
    if (!value)
        return std::nullopt;
    std::vector<std::string> parts;
    gchar **split = g_strsplit_set(value, " \t", -1);
    for (gchar **p = split; *p; ++p)
        if (**p)
            parts.emplace_back(*p); // repeated spaces give empty fields
    g_strfreev(split);
    char *end = nullptr;
    const long tag = parts.size() == 3 ? std::strtol(parts[0].c_str(), &end, 10) : -1;
    // Exactly three fields: session parameters (UNENCRYPTED_SRTP, KDR...)
    // change the transform, and we take none of them.
    if (!end || *end || tag < 0 || tag > 999999999 || !known_suite(parts[1]) || parts[2].rfind("inline:", 0) != 0)
        return std::nullopt;
    // inline:KEY[|LIFETIME][|MKI:LEN]: an MKI would have to go in every packet.
    const std::string key_params = parts[2].substr(7);
    const std::string b64 = key_params.substr(0, key_params.find('|'));
    const auto last = key_params.rfind('|');
    if (last != std::string::npos && key_params.find(':', last) != std::string::npos)
        return std::nullopt;
    std::optional<SrtpCrypto> out;
    gsize len = 0;
    guchar *raw = g_base64_decode(b64.c_str(), &len);
    if (raw && len == kSrtpKeyLength)
        out = SrtpCrypto{static_cast<int>(tag), parts[1], std::string(reinterpret_cast<char *>(raw), len)};
    if (raw)
        std::memset(raw, 0, len);
    g_free(raw);
    return out;
}

std::string crypto_attribute(const SrtpCrypto &c)
{
    gchar *b64 = g_base64_encode(reinterpret_cast<const guchar *>(c.key.data()), c.key.size());
    std::string out = std::to_string(c.tag) + " " + c.suite + " inline:" + b64;
    g_free(b64);
    return out;
}

std::string random_srtp_key()
{
    std::string key(kSrtpKeyLength, '\0');
    size_t have = 0;
    while (have < key.size()) {
        const ssize_t got = getrandom(key.data() + have, key.size() - have, 0);
        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0)
            return "";
        have += static_cast<size_t>(got);
    }
    return key;
}

GstElement *make_srtp_encoder(const SrtpSession &s)
{
    GstElement *enc = gst_element_factory_make("srtpenc", nullptr);
    if (!enc)
        return nullptr;
    GstBuffer *key = key_buffer(s.local_key);
    g_object_set(enc, "key", key, nullptr);
    gst_buffer_unref(key);
    gst_util_set_object_arg(G_OBJECT(enc), "rtp-cipher", "aes-128-icm");
    gst_util_set_object_arg(G_OBJECT(enc), "rtp-auth", rtp_auth(s.suite));
    gst_util_set_object_arg(G_OBJECT(enc), "rtcp-cipher", "aes-128-icm");
    gst_util_set_object_arg(G_OBJECT(enc), "rtcp-auth", "hmac-sha1-80");
    return enc;
}

GstElement *make_srtp_decoder(const SrtpSession &s)
{
    GstElement *dec = gst_element_factory_make("srtpdec", nullptr);
    if (!dec)
        return nullptr;
    g_signal_connect_data(dec, "request-key", G_CALLBACK(on_request_key), new SrtpSession(s),
                          [](gpointer data, GClosure *) { delete static_cast<SrtpSession *>(data); },
                          GConnectFlags(0));
    return dec;
}

} // namespace sipsofia
