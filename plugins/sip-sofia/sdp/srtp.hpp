// SRTP with SDES keys (RFC 4568 a=crypto, RFC 3711): the crypto suites we
// take, their SDP form, fresh master keys, and the GStreamer srtpenc/srtpdec
// that rtpbin puts in a session's path. Keys are secrets: nothing here logs
// them, and callers must not either.
#pragma once

#include <gst/gst.h>

#include <optional>
#include <string>

namespace sipsofia {

// The `srtp` property: refuse RTP/SAVP, take either, or refuse plain RTP.
enum class SrtpMode { Off, Optional, Required };
std::optional<SrtpMode> parse_srtp_mode(const std::string &text);

// One a=crypto line: "TAG SUITE inline:BASE64KEY".
struct SrtpCrypto {
    int tag = 0;
    std::string suite; // AES_CM_128_HMAC_SHA1_80 or AES_CM_128_HMAC_SHA1_32
    std::string key;   // 30 raw bytes: 16 of master key, 14 of salt
    bool operator==(const SrtpCrypto &) const = default;
};

// A stream's SRTP: off, or the suite with the key we send with (ours) and
// the one the peer sends with (theirs).
struct SrtpSession {
    bool on = false;
    std::string suite;
    std::string local_key, remote_key;
    bool operator==(const SrtpSession &) const = default;
};

constexpr size_t kSrtpKeyLength = 30;

// An a=crypto value we can use; nullopt for other suites, MKIs, session
// parameters or malformed keys.
std::optional<SrtpCrypto> parse_crypto(const char *value);
// The a=crypto value for `c`.
std::string crypto_attribute(const SrtpCrypto &c);
// 30 bytes from the kernel's CSPRNG (getrandom); "" when it fails.
std::string random_srtp_key();

// rtpbin's request-rtp/rtcp-encoder and -decoder: a new srtpenc/srtpdec set
// up for `s` (floating reference), nullptr when the element is missing.
GstElement *make_srtp_encoder(const SrtpSession &s);
GstElement *make_srtp_decoder(const SrtpSession &s);

} // namespace sipsofia
