// The HTTP API of `mediagw serve` (libsoup 3, JSON with json-glib; the
// contract is docs/openapi.yaml):
//   GET  /ready                       200 accepting calls, 503 full/draining (no token)
//   GET  /metrics                     Prometheus text (token unless metrics_public)
//   GET  /v1/gateways                 list
//   POST /v1/gateways                 start one from a template: {"template", "mode": "wait"|"dial",
//                                     "dial", "room", "values": {"NAME": "value"}}
//   GET  /v1/gateways/{id}            status
//   DELETE /v1/gateways/{id}          stop
//   POST /v1/gateways/{id}/dtmf       {"digits": "123#"}
// Bearer token on everything but /ready (401), malformed JSON 400 naming
// the field, unknown id 404; bodies over 16 KiB refused from their headers
// or as they arrive (413), before anything is parsed.
#pragma once

#include <libsoup/soup.h>

#include <string>

namespace mediagw::serve {

class Supervisor;

class HttpApi {
public:
    static constexpr gsize kMaxBody = 16 * 1024;

    HttpApi(Supervisor &supervisor, std::string token, bool metrics_public);
    ~HttpApi();
    HttpApi(const HttpApi &) = delete;

    bool listen(const std::string &host_port, std::string &error); // "127.0.0.1:8088"
    const std::string &url() const { return url_; }

private:
    static void early(SoupServer *, SoupServerMessage *msg, const char *, GHashTable *, gpointer self);
    static void handle(SoupServer *, SoupServerMessage *msg, const char *path, GHashTable *, gpointer self);
    void route(SoupServerMessage *msg, const std::string &method, const std::string &path);
    bool authorized(SoupServerMessage *msg) const;
    void start_gateway(SoupServerMessage *msg);
    void dtmf(SoupServerMessage *msg, const std::string &id);

    Supervisor &supervisor_;
    std::string token_;
    bool metrics_public_;
    SoupServer *server_ = nullptr;
    std::string url_;
};

} // namespace mediagw::serve
