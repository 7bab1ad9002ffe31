#include "signalling/sip_settings.hpp"

#include <glib.h>
#include <glib/gstdio.h>

namespace sipsofia {

namespace {

std::string read_file(const std::string &path, const char *what)
{
    gchar *text = nullptr;
    gsize len = 0;
    GError *err = nullptr;
    if (!g_file_get_contents(path.c_str(), &text, &len, &err)) {
        std::string m = std::string(what) + ": " + (err ? err->message : "cannot read " + path);
        g_clear_error(&err);
        throw mediagw::Error(m);
    }
    std::string out(text, len);
    g_free(text);
    return out;
}

bool write_private(const std::string &path, const std::string &text)
{
    return g_file_set_contents_full(path.c_str(), text.c_str(), static_cast<gssize>(text.size()),
                                    G_FILE_SET_CONTENTS_NONE, 0600, nullptr);
}

} // namespace

SignallingSettings::SignallingSettings(const PropertyReader &p)
{
    tls_listen = p.str("tls_listen");
    const std::string cert = p.str("tls_cert"), key = p.str("tls_key");
    cert_dir = p.str("tls_cert_dir");
    if (!tls_listen.empty() && cert_dir.empty() && (cert.empty() || key.empty()))
        throw mediagw::Error("tls_listen needs tls_cert and tls_key, or tls_cert_dir");
    if (!tls_listen.empty() && cert_dir.empty()) {
        // Sofia reads a folder: agent.pem (key + certificate), cafile.pem.
        const std::string pem = read_file(key, "tls_key") + "\n" + read_file(cert, "tls_cert");
        gchar *dir = g_dir_make_tmp("mediagw-tls-XXXXXX", nullptr);
        if (!dir)
            throw mediagw::Error("tls: cannot make a temporary certificate folder");
        made_cert_dir = cert_dir = dir;
        g_free(dir);
        if (!write_private(cert_dir + "/agent.pem", pem) || !write_private(cert_dir + "/cafile.pem", read_file(cert, "tls_cert")))
            throw mediagw::Error("tls: cannot write the certificate folder");
    }
    const int64_t se = p.integer("session_expires");
    if (se != 0 && (se < 90 || se > 86400))
        throw mediagw::Error("session_expires: 0 (off) or 90..86400 seconds");
    session_expires = static_cast<unsigned>(se);
    const int64_t delay = p.integer("answer_delay");
    if (delay < 0 || delay > 60000)
        throw mediagw::Error("answer_delay: 0..60000 ms");
    answer_delay_ms = static_cast<unsigned>(delay);

    account.aor = p.str("account");
    account.registrar = p.str("registrar");
    account.username = p.str("username");
    account.password = p.str("password");
    const int64_t expires = p.integer("register_expires");
    if (expires < 10 || expires > 86400)
        throw mediagw::Error("register_expires: 10..86400 seconds");
    account.expires = static_cast<int>(expires);
    if (!account.aor.empty() && account.aor.rfind("sip:", 0) != 0 && account.aor.rfind("sips:", 0) != 0)
        throw mediagw::Error("account: expected a SIP URI (sip:user@domain), not '" + account.aor + "'");
    if (account.aor.empty() && !account.registrar.empty())
        throw mediagw::Error("registrar is set but account is not");

    dial = p.str("dial");
    if (!dial.empty() && dial.rfind("sip:", 0) != 0 && dial.rfind("sips:", 0) != 0)
        throw mediagw::Error("dial: expected a SIP URI, not '" + dial + "'");
    policy.mode = p.str("answer");
    policy.allow = p.list("allow");
    policy.allow_sources = p.list("allow_sources");
    policy.realm = p.str("auth_realm");
    policy.user = p.str("auth_user");
    policy.password = p.str("auth_password");
    std::string error;
    if (!CallPolicy::make(policy, error))
        throw mediagw::Error(error);
    sips_url(); // validates tls_listen
}

SignallingSettings::~SignallingSettings()
{
    if (made_cert_dir.empty())
        return;
    for (const char *f : {"/agent.pem", "/cafile.pem"})
        g_unlink((made_cert_dir + f).c_str());
    g_rmdir(made_cert_dir.c_str());
}

std::string SignallingSettings::sips_url() const
{
    if (tls_listen.empty())
        return "";
    auto colon = tls_listen.rfind(':');
    if (colon == std::string::npos)
        throw mediagw::Error("tls_listen: expected ADDR:PORT, not '" + tls_listen + "'");
    std::string port = tls_listen.substr(colon + 1);
    return "sips:" + tls_listen.substr(0, colon) + ":" + (port == "0" ? "*" : port);
}

std::unique_ptr<CallPolicy> SignallingSettings::make_policy() const
{
    std::string error;
    return CallPolicy::make(policy, error);
}

} // namespace sipsofia
