// Who may call in. Two independent checks, both must pass:
// - where the INVITE really came from (its packet's source address) against
//   `allow_sources` CIDR blocks: the one check a caller cannot forge (over
//   UDP a source can be spoofed, but then the answer never reaches it);
// - the answer mode: everyone (auto), callers whose From URI matches an
//   allowlist pattern (anyone can write any From: this is a filter, not
//   authentication), or callers that pass a digest challenge (RFC 3261
//   22.2, checked with Sofia's auth_digest helpers: no password file).
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <vector>

#include <gio/gio.h>

struct sip_s;

namespace sipsofia {

class CallPolicy {
public:
    enum class Mode { Auto, Allowlist, Auth };
    struct Config {
        std::string mode = "auto"; // "auto", "allowlist" or "auth"
        std::vector<std::string> allow;         // From URI patterns (allowlist)
        std::vector<std::string> allow_sources; // CIDR blocks or addresses; empty: any source
        std::string realm, user, password;      // auth
    };
    struct Verdict {
        int status = 200;      // 200 = let it in; 401 = challenge; 403 = refuse
        std::string challenge; // WWW-Authenticate value when 401
        std::string why;       // for the log
    };

    // nullptr with `error` (naming the property) on a bad configuration.
    static std::unique_ptr<CallPolicy> make(const Config &config, std::string &error);
    CallPolicy() = default;
    ~CallPolicy();
    CallPolicy(const CallPolicy &) = delete;
    CallPolicy &operator=(const CallPolicy &) = delete;

    // A new INVITE's verdict (re-INVITEs are in an admitted dialog).
    // `source`: the address its packet came from ("" when unknown: refused
    // when allow_sources is set). `now_us`: monotonic microseconds.
    Verdict check(const sip_s *sip, const std::string &source, int64_t now_us);
    Mode mode() const { return mode_; }

    // The URI forms an allowlist pattern is matched against: the full From
    // URI and "scheme:user@host" (no port, no parameters). Exposed for tests.
    static bool allowed(const std::vector<std::string> &patterns, const std::string &uri,
                        const std::string &short_uri);
    bool source_allowed(const std::string &address) const;

private:
    // A challenge we sent: one use, for one request URI, for a while.
    struct Nonce {
        std::string value, uri;
        int64_t issued_us = 0;
    };
    bool digest_ok(const sip_s *sip, int64_t now_us, std::string &why);
    std::string new_nonce(const std::string &uri, int64_t now_us);

    Mode mode_ = Mode::Auto;
    std::vector<std::string> allow_;
    std::vector<GInetAddressMask *> sources_;
    std::string realm_, user_, password_;
    std::deque<Nonce> nonces_; // outstanding challenges, oldest first
};

} // namespace sipsofia
