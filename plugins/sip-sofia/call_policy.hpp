// Who may call in: everyone (auto), callers whose From URI matches an
// allowlist pattern, or callers that pass a digest challenge (RFC 3261
// 22.2, checked with Sofia's auth_digest helpers: no password file).
#pragma once

#include <deque>
#include <memory>
#include <string>
#include <vector>

struct sip_s;

namespace sipsofia {

class CallPolicy {
public:
    enum class Mode { Auto, Allowlist, Auth };
    struct Verdict {
        int status = 200;      // 200 = let it in; 401 = challenge; 403 = refuse
        std::string challenge; // WWW-Authenticate value when 401
        std::string why;       // for the log
    };

    // `mode`: "auto", "allowlist" or "auth". Throws nothing; error on misuse.
    static std::unique_ptr<CallPolicy> make(const std::string &mode, std::vector<std::string> allow,
                                            std::string realm, std::string user, std::string password,
                                            std::string &error);

    // A new INVITE's verdict (re-INVITEs are in an admitted dialog).
    Verdict check(const sip_s *sip);
    Mode mode() const { return mode_; }

    // The URI forms an allowlist pattern is matched against: the full From
    // URI and "scheme:user@host" (no port, no parameters). Exposed for tests.
    static bool allowed(const std::vector<std::string> &patterns, const std::string &uri,
                        const std::string &short_uri);

private:
    bool digest_ok(const sip_s *sip, std::string &why) const;
    std::string new_nonce();

    Mode mode_ = Mode::Auto;
    std::vector<std::string> allow_;
    std::string realm_, user_, password_;
    std::deque<std::string> nonces_; // recently issued; a response must use one
};

} // namespace sipsofia
