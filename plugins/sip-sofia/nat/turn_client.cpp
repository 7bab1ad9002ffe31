#include "nat/turn_client.hpp"

#include "nat/turn_checks.hpp"

#include <mediagw/plugin.h>

#include <gst/net/gstnetaddressmeta.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <mutex>

namespace sipsofia {

// What the streaming threads share with the main loop.
struct TurnDataPlane {
    std::mutex lock;
    std::optional<stun::Address> peer;
    bool permitted = false; // Send indications may go to `peer`
    uint16_t channel = 0;   // bound to `peer`; 0 = none yet
    uint16_t requested = 0; // asked for `peer`, its ChannelBind not answered yet; 0 = none
    std::weak_ptr<TurnClient *> owner;
    GInetSocketAddress *server = nullptr; // set once, before any element exists
    std::atomic<uint32_t> logged{0};      // stun::Problem kinds already logged, one bit each
    ~TurnDataPlane() { g_clear_object(&server); }
};

namespace {

constexpr guint32 kLifetime = 600;      // requested allocation lifetime, s (RFC 8656 default)
constexpr guint kChannelRefreshS = 240; // permissions last 300 s, channels 600 s
constexpr int kMaxAuthRetries = 3;      // 401 then 438s
constexpr size_t kMaxRealmNonce = 763;  // RFC 8489 sections 14.9/14.10: 128 characters, UTF-8 escaped
constexpr guint32 kMaxLifetime = 3600;  // RFC 8656 section 7.2's cap on what a server grants
constexpr size_t kMaxDatagram = 65536;  // a UDP datagram's ceiling: nothing read is ever cut short

static_assert(static_cast<unsigned>(stun::Problem::Count) <= 32, "one bit per kind in TurnDataPlane::logged");

const char *method_name(uint16_t m)
{
    switch (m) {
    case stun::Allocate: return "Allocate";
    case stun::Refresh: return "Refresh";
    case stun::CreatePermission: return "CreatePermission";
    case stun::ChannelBind: return "ChannelBind";
    default: return "request";
    }
}

struct RetransmitTimer {
    TurnClient *self;
    std::string key; // the transaction id
};

std::string no_answer()
{
    return "no answer within " + std::to_string(TurnClient::kTimeoutMs / 1000) + " s (unreachable?)";
}

std::string tid_key(const stun::TransactionId &t) { return std::string(reinterpret_cast<const char *>(t.data()), t.size()); }

void drop_element(GstElement *&e)
{
    if (e)
        gst_object_unref(gst_object_ref_sink(e));
    e = nullptr;
}

// A buffer mapped for reading until the end of the scope, exceptions included.
struct ReadMap {
    GstBuffer *buffer;
    GstMapInfo map{};
    bool ok;
    explicit ReadMap(GstBuffer *b) : buffer(b), ok(gst_buffer_map(b, &map, GST_MAP_READ)) {}
    ~ReadMap() { unmap(); }
    void unmap()
    {
        if (ok)
            gst_buffer_unmap(buffer, &map);
        ok = false;
    }
    ReadMap(const ReadMap &) = delete;
    ReadMap &operator=(const ReadMap &) = delete;
};

// The payload of a received datagram as a buffer of its own, keeping the
// original's metadata (timestamps, the source address).
GstBuffer *payload_buffer(GstBuffer *original, const std::string &payload)
{
    GstBuffer *out = gst_buffer_new_memdup(payload.data(), payload.size());
    gst_buffer_copy_into(out, original, GST_BUFFER_COPY_METADATA, 0, static_cast<gsize>(-1));
    return out;
}

} // namespace

TurnClient::TurnClient(TurnServerConfig config, TurnLog log, std::string label)
    : config_(std::move(config)), log_(std::move(log)), label_(std::move(label)),
      data_(std::make_shared<TurnDataPlane>()), alive_(std::make_shared<TurnClient *>(this))
{
    data_->owner = alive_;
}

TurnClient::~TurnClient()
{
    release();
    alive_.reset();
}

void TurnClient::log(int level, const std::string &m) const
{
    if (log_)
        log_(level, "TURN " + config_.uri + " (" + label_ + "): " + m);
}

bool TurnClient::allocate(const std::string &local_address, Done done, std::string &error)
{
    release();
    GInetAddress *ia = g_inet_address_new_from_string(local_address.c_str());
    if (!ia) {
        error = "TURN: '" + local_address + "' is not an IP address to bind to";
        return false;
    }
    GError *err = nullptr;
    socket_ = g_socket_new(g_inet_address_get_family(ia), G_SOCKET_TYPE_DATAGRAM, G_SOCKET_PROTOCOL_UDP, &err);
    GSocketAddress *sa = g_inet_socket_address_new(ia, 0);
    if (socket_ && !g_socket_bind(socket_, sa, FALSE, &err))
        g_clear_object(&socket_);
    g_object_unref(sa);
    g_object_unref(ia);
    if (!socket_) {
        error = "TURN: cannot bind a UDP socket on " + local_address + ": " + err->message;
        g_error_free(err);
        return false;
    }
    done_ = std::move(done);
    deadline_timer_ = g_timeout_add(
        kTimeoutMs,
        [](gpointer p) {
            auto self = static_cast<TurnClient *>(p);
            self->deadline_timer_ = 0;
            self->finish(no_answer());
            return G_SOURCE_REMOVE;
        },
        this);
    start_reading();
    GInetAddress *server_ip = g_inet_address_new_from_string(config_.host.c_str());
    if (server_ip) {
        resolved(server_ip, "");
        return true;
    }
    resolving_ = g_cancellable_new();
    auto job = new std::weak_ptr<TurnClient *>(alive_);
    g_resolver_lookup_by_name_async(
        g_resolver_get_default(), config_.host.c_str(), resolving_,
        [](GObject *resolver, GAsyncResult *res, gpointer p) {
            std::unique_ptr<std::weak_ptr<TurnClient *>> owner(static_cast<std::weak_ptr<TurnClient *> *>(p));
            GError *e = nullptr;
            GList *list = g_resolver_lookup_by_name_finish(G_RESOLVER(resolver), res, &e);
            auto alive = owner->lock();
            if (alive) {
                TurnClient *self = *alive;
                g_clear_object(&self->resolving_);
                if (list)
                    self->resolved(G_INET_ADDRESS(g_object_ref(list->data)), "");
                else
                    self->resolved(nullptr, e ? e->message : "no address");
            }
            g_resolver_free_addresses(list);
            g_clear_error(&e);
            g_object_unref(resolver);
        },
        job);
    return true;
}

void TurnClient::resolved(GInetAddress *address, const std::string &error)
{
    if (!address) {
        finish("cannot resolve " + config_.host + ": " + error);
        return;
    }
    server_ = g_inet_socket_address_new(address, static_cast<guint16>(config_.port));
    g_object_unref(address);
    g_clear_object(&data_->server);
    data_->server = G_INET_SOCKET_ADDRESS(g_object_ref(server_));
    stun::Message m = stun::Message::make(stun::Allocate, stun::Request);
    m.add_u32(stun::RequestedTransport, 17u << 24); // UDP
    m.add_u32(stun::Lifetime, kLifetime);
    send_request(std::move(m));
}

// Authenticated once a 401 gave us realm and nonce; retransmitted with
// RFC 8489's doubling timer until kTimeoutMs.
void TurnClient::send_request(stun::Message request, int auth_retries)
{
    request.transaction = stun::Message::make(static_cast<stun::Method>(request.method), stun::Request).transaction;
    stun::Message wire = request;
    if (!key_.empty()) {
        wire.add(stun::Username, config_.username);
        wire.add(stun::Realm, realm_);
        wire.add(stun::Nonce, nonce_);
    }
    Pending p;
    p.request = std::move(request);
    p.wire = wire.encode(key_);
    p.key = key_; // its answer is checked against the key that signed it
    p.auth_retries = auth_retries;
    p.deadline = g_get_monotonic_time() + kTimeoutMs * 1000;
    const std::string key = tid_key(p.request.transaction);
    send_raw(p.wire);
    auto &slot = pending_[key] = std::move(p);
    slot.timer = g_timeout_add_full(G_PRIORITY_DEFAULT, slot.rto_ms, retransmit, new RetransmitTimer{this, key},
                                    [](gpointer t) { delete static_cast<RetransmitTimer *>(t); });
}

gboolean TurnClient::retransmit(gpointer data)
{
    auto t = static_cast<RetransmitTimer *>(data);
    auto it = t->self->pending_.find(t->key);
    if (it == t->self->pending_.end())
        return G_SOURCE_REMOVE;
    Pending &p = it->second;
    if (g_get_monotonic_time() >= p.deadline) {
        const uint16_t method = p.request.method;
        p.timer = 0;
        t->self->pending_.erase(it); // `t` is freed with the source: use nothing after
        TurnClient *self = t->self;
        self->on_failure(method, no_answer());
        return G_SOURCE_REMOVE;
    }
    t->self->send_raw(p.wire);
    p.rto_ms *= 2;
    const gint64 left_ms = (p.deadline - g_get_monotonic_time()) / 1000;
    const auto wait_ms = static_cast<guint>(std::clamp<gint64>(left_ms, 1, p.rto_ms));
    p.timer = g_timeout_add_full(G_PRIORITY_DEFAULT, wait_ms, retransmit, new RetransmitTimer{t->self, t->key},
                                 [](gpointer x) { delete static_cast<RetransmitTimer *>(x); });
    return G_SOURCE_REMOVE;
}

void TurnClient::send_raw(const std::string &wire)
{
    if (!socket_ || !server_)
        return;
    GError *err = nullptr;
    if (g_socket_send_to(socket_, server_, wire.data(), wire.size(), nullptr, &err) < 0) {
        log(MGW_LOG_DEBUG, std::string("send: ") + err->message);
        g_error_free(err);
    }
}

void TurnClient::start_reading()
{
    if (reader_ || !socket_)
        return;
    reader_ = g_socket_create_source(socket_, G_IO_IN, nullptr);
    auto owner = new std::weak_ptr<TurnClient *>(alive_);
    g_source_set_callback(
        reader_, G_SOURCE_FUNC(+[](GSocket *s, GIOCondition, gpointer p) -> gboolean {
            try {
                auto alive = static_cast<std::weak_ptr<TurnClient *> *>(p)->lock();
                std::vector<uint8_t> buf(kMaxDatagram);
                // Until a udpsrc takes the socket over (it may, from a callback below).
                // The socket blocks (udpsrc/udpsink want it so): read only when a
                // datagram, or an error (returned at once, and so cleared), is there.
                for (int i = 0; i < 64 && !g_source_is_destroyed(g_main_current_source()) &&
                                g_socket_condition_check(s, static_cast<GIOCondition>(G_IO_IN | G_IO_ERR));
                     ++i) {
                    GSocketAddress *from = nullptr;
                    const gssize n = g_socket_receive_from(s, &from, reinterpret_cast<gchar *>(buf.data()), buf.size(),
                                                           nullptr, nullptr);
                    if (n > 0 && alive) // media before the chain runs is dropped
                        (*alive)->on_datagram(buf.data(), static_cast<size_t>(n), from);
                    g_clear_object(&from);
                    if (n <= 0)
                        break;
                }
            } catch (...) { // nothing may unwind through GLib; what was read is lost, the next read goes on
            }
            return G_SOURCE_CONTINUE;
        }),
        owner, [](gpointer p) { delete static_cast<std::weak_ptr<TurnClient *> *>(p); });
    g_source_attach(reader_, nullptr);
}

void TurnClient::stop_reading()
{
    if (!reader_)
        return;
    g_source_destroy(reader_);
    g_source_unref(reader_);
    reader_ = nullptr;
}

// Every datagram is checked before anything acts on it: source, framing,
// transaction (one answer per request), then integrity (turn_checks.hpp).
void TurnClient::on_datagram(const uint8_t *data, size_t len, GSocketAddress *from)
{
    if (auto p = turn::check_source(from, server_); p != stun::Problem::None)
        return dropped(p);
    if (stun::is_channel_data(data, len))
        return; // media while no udpsrc runs: nobody to take it
    stun::Problem why;
    auto m = stun::Message::parse(data, len, &why);
    if (!m)
        return dropped(why);
    if (m->cls == stun::Indication)
        return; // a Data indication while no udpsrc runs, as above
    if (m->cls == stun::Request)
        return dropped(stun::Problem::NotResponse);
    auto it = pending_.find(tid_key(m->transaction));
    if (it == pending_.end())
        return dropped(stun::Problem::UnknownTransaction); // forged, or a retransmission's second answer
    if (auto p = turn::check_response(data, len, *m, it->second.request.method, it->second.key);
        p != stun::Problem::None)
        return dropped(p); // the request stays outstanding: the real answer may still come
    Pending p = std::move(it->second);
    pending_.erase(it); // one answer per transaction
    if (p.timer)
        g_source_remove(p.timer);
    on_response(*m, p);
}

bool TurnClient::first_drop(TurnDataPlane &plane, stun::Problem p)
{
    const uint32_t bit = 1u << static_cast<unsigned>(p);
    return !(plane.logged.fetch_or(bit) & bit);
}

void TurnClient::dropped(stun::Problem p)
{
    if (!first_drop(*data_, p))
        return;
    // A retransmission's second answer is ordinary; the rest is not from our server.
    const int level = p == stun::Problem::UnknownTransaction ? MGW_LOG_INFO : MGW_LOG_WARNING;
    log(level, std::string("dropped a datagram: ") + stun::describe(p) + " (logged once per kind)");
}

void TurnClient::on_response(const stun::Message &response, Pending &request)
{
    if (response.cls == stun::Success) {
        on_success(response, request.request);
        return;
    }
    auto [code, reason] = response.error();
    const std::string *realm = response.find(stun::Realm), *nonce = response.find(stun::Nonce);
    // 401 to our first, unauthenticated, request: the challenge. 438: a new nonce.
    const bool challenge = code == 401 && key_.empty();
    if ((realm && realm->size() > kMaxRealmNonce) || (nonce && nonce->size() > kMaxRealmNonce)) {
        on_failure(request.request.method, "the server's REALM or NONCE is longer than RFC 8489 allows");
        return;
    }
    if ((challenge || code == 438) && nonce && request.auth_retries < kMaxAuthRetries) {
        if (realm && challenge) // a 438 (unauthenticated, by design) renews the nonce only
            realm_ = *realm;
        nonce_ = *nonce;
        key_ = stun::long_term_key(config_.username, realm_, config_.password);
        if (code == 438)
            log(MGW_LOG_DEBUG, "stale nonce: retrying with the new one");
        send_request(std::move(request.request), request.auth_retries + 1);
        return;
    }
    // A Refresh refused for credentials that expired meanwhile: once, with fresh ones from the turn node.
    if (request.request.method == stun::Refresh && (code == 401 || code == 441) && !refetched_ && config_.refetch) {
        refetched_ = true;
        if (auto fresh = config_.refetch()) {
            log(MGW_LOG_INFO, "Refresh refused (" + std::to_string(code) + "): retrying with fresh credentials");
            config_.username = fresh->username;
            config_.password = fresh->password;
            config_.expires = fresh->expires;
            key_ = stun::long_term_key(config_.username, realm_, config_.password);
            send_request(std::move(request.request));
            return;
        }
    }
    std::string why = std::to_string(code) + " " + reason;
    if (code == 401 || code == 441)
        why += credential_hint();
    on_failure(request.request.method, why);
}

void TurnClient::on_success(const stun::Message &response, const stun::Message &request)
{
    switch (request.method) {
    case stun::Allocate: {
        auto relayed = response.address(stun::XorRelayedAddress);
        if (!relayed || relayed->port == 0) {
            on_failure(stun::Allocate, "the answer has no usable XOR-RELAYED-ADDRESS");
            return;
        }
        relayed_ = *relayed;
        mapped_ = response.address(stun::XorMappedAddress).value_or(stun::Address{});
        const guint32 lifetime = std::min(response.u32(stun::Lifetime).value_or(kLifetime), kMaxLifetime);
        log(MGW_LOG_INFO, "relayed address " + relayed_.text() + " (we are " + mapped_.text() + " to the server), " +
                              std::to_string(lifetime) + " s");
        schedule_refresh(lifetime);
        finish("");
        if (peer_) // set before the allocation completed
            set_peer(*std::exchange(peer_, std::nullopt));
        break;
    }
    case stun::Refresh: {
        const guint32 lifetime = std::min(response.u32(stun::Lifetime).value_or(kLifetime), kMaxLifetime);
        log(MGW_LOG_DEBUG, "refreshed for " + std::to_string(lifetime) + " s");
        refetched_ = false;
        schedule_refresh(lifetime);
        break;
    }
    case stun::CreatePermission: {
        std::lock_guard<std::mutex> l(data_->lock);
        data_->permitted = true;
        break;
    }
    case stun::ChannelBind: {
        auto n = request.u32(stun::ChannelNumber);
        auto peer = request.address(stun::XorPeerAddress);
        std::lock_guard<std::mutex> l(data_->lock);
        if (n && peer && data_->peer == peer) {
            if (data_->channel != (*n >> 16))
                log(MGW_LOG_INFO, "channel " + std::to_string(*n >> 16) + " bound to " + peer->text());
            data_->channel = static_cast<uint16_t>(*n >> 16);
            data_->permitted = true; // a ChannelBind installs the permission too
        }
        break;
    }
    default:
        break;
    }
}

void TurnClient::on_failure(uint16_t method, const std::string &why)
{
    if (method == stun::Allocate) {
        finish(why); // the caller says what failed
        return;
    }
    const std::string what = std::string(method_name(method)) + " failed: " + why;
    log(MGW_LOG_WARNING, what + (method == stun::Refresh ? " (the relay ends when its lifetime does)" : ""));
}

void TurnClient::finish(const std::string &error)
{
    if (deadline_timer_) {
        g_source_remove(deadline_timer_);
        deadline_timer_ = 0;
    }
    if (!error.empty()) {
        forget_pending();
        if (resolving_)
            g_cancellable_cancel(resolving_);
    }
    if (!done_)
        return;
    Done done = std::move(done_);
    done_ = nullptr;
    done(error.empty() ? "" : config_.uri + ": " + error);
}

void TurnClient::schedule_refresh(guint seconds)
{
    if (refresh_timer_)
        g_source_remove(refresh_timer_);
    // A minute early (or half-way through a short lifetime), so that retransmissions still fit.
    const guint in = seconds > 120 ? seconds - 60 : std::max(1u, seconds / 2);
    refresh_timer_ = g_timeout_add_seconds(
        in,
        [](gpointer p) {
            auto self = static_cast<TurnClient *>(p);
            self->refresh_timer_ = 0;
            stun::Message m = stun::Message::make(stun::Refresh, stun::Request);
            m.add_u32(stun::Lifetime, kLifetime);
            self->send_request(std::move(m));
            return G_SOURCE_REMOVE;
        },
        this);
}

void TurnClient::set_peer(const stun::Address &peer)
{
    if (!allocated()) {
        peer_ = peer; // bound once allocated
        return;
    }
    {
        std::lock_guard<std::mutex> l(data_->lock);
        if (data_->peer == peer)
            return;
        // A channel stays tied to its peer (RFC 8656 section 12): a new one for a new peer.
        data_->permitted = data_->permitted && data_->peer && data_->peer->ip == peer.ip;
        data_->channel = data_->requested = 0;
        data_->peer = peer;
    }
    stun::Message m = stun::Message::make(stun::CreatePermission, stun::Request);
    m.add_address(stun::XorPeerAddress, {peer.ip, 0});
    send_request(std::move(m));
    if (next_channel_ > stun::kLastChannel)
        next_channel_ = stun::kFirstChannel;
    ++next_channel_;
    bind_channel();
    if (!channel_timer_)
        channel_timer_ = g_timeout_add_seconds(
            kChannelRefreshS,
            [](gpointer p) -> gboolean {
                static_cast<TurnClient *>(p)->bind_channel(); // refreshes the permission as well
                return G_SOURCE_CONTINUE;
            },
            this);
}

void TurnClient::bind_channel()
{
    std::optional<stun::Address> peer;
    {
        std::lock_guard<std::mutex> l(data_->lock);
        peer = data_->peer;
        if (peer)
            data_->requested = static_cast<uint16_t>(next_channel_ - 1);
    }
    if (!peer)
        return;
    stun::Message m = stun::Message::make(stun::ChannelBind, stun::Request);
    m.add_u32(stun::ChannelNumber, static_cast<uint32_t>(next_channel_ - 1) << 16);
    m.add_address(stun::XorPeerAddress, *peer);
    send_request(std::move(m));
}

std::string TurnClient::credential_hint() const
{
    const gint64 now = g_get_real_time() / G_USEC_PER_SEC;
    gint64 expiry = config_.expires;
    if (!expiry) { // static credentials in the REST form "<expiry>:<user>"
        const std::string &u = config_.username;
        const auto colon = u.find(':');
        const std::string stamp = u.substr(0, colon);
        if (!stamp.empty() && stamp.find_first_not_of("0123456789") == std::string::npos && stamp.size() < 12)
            expiry = std::stoll(stamp);
    }
    if (expiry && expiry < now)
        return " (the credentials expired at " + std::to_string(expiry) + ", " + std::to_string(now - expiry) +
               " s ago)";
    return " (wrong username or password?)";
}

void TurnClient::forget_pending()
{
    for (auto &[k, p] : pending_)
        if (p.timer)
            g_source_remove(p.timer);
    pending_.clear();
}

void TurnClient::release()
{
    if (socket_ && allocated()) { // deallocate: the server frees the relay at once
        stun::Message m = stun::Message::make(stun::Refresh, stun::Request);
        m.add_u32(stun::Lifetime, 0);
        if (!key_.empty()) {
            m.add(stun::Username, config_.username);
            m.add(stun::Realm, realm_);
            m.add(stun::Nonce, nonce_);
        }
        send_raw(m.encode(key_));
        log(MGW_LOG_DEBUG, "deallocated " + relayed_.text());
    }
    forget_pending();
    for (guint *t : {&deadline_timer_, &refresh_timer_, &channel_timer_})
        if (*t) {
            g_source_remove(*t);
            *t = 0;
        }
    if (resolving_) {
        g_cancellable_cancel(resolving_);
        g_clear_object(&resolving_);
    }
    stop_reading();
    if (socket_)
        g_socket_close(socket_, nullptr);
    g_clear_object(&socket_);
    g_clear_object(&server_);
    done_ = nullptr;
    relayed_ = mapped_ = {};
    peer_.reset();
    realm_.clear();
    nonce_.clear();
    key_.clear();
    std::lock_guard<std::mutex> l(data_->lock);
    data_->peer.reset();
    data_->permitted = false;
    data_->channel = data_->requested = 0;
}

bool TurnClient::make_elements(GstElement *&src, GstElement *&sink, std::string &error)
{
    if (!allocated() || !server_) {
        error = "TURN (" + label_ + "): no allocation";
        return false;
    }
    src = gst_element_factory_make("udpsrc", nullptr);
    sink = gst_element_factory_make("udpsink", nullptr);
    if (!src || !sink) {
        drop_element(src);
        drop_element(sink);
        error = "GStreamer elements udpsrc/udpsink are missing";
        return false;
    }
    gchar *server_ip = g_inet_address_to_string(g_inet_socket_address_get_address(G_INET_SOCKET_ADDRESS(server_)));
    g_object_set(src, "socket", socket_, "close-socket", FALSE, nullptr);
    // Everything leaves towards the server; the probe frames it for the peer.
    g_object_set(sink, "socket", socket_, "close-socket", FALSE, "host", server_ip, "port", config_.port, "async",
                 FALSE, nullptr);
    g_free(server_ip);
    auto add_probe = [this](GstElement *e, const char *pad_name, GstPadProbeType type, GstPadProbeCallback cb) {
        GstPad *pad = gst_element_get_static_pad(e, pad_name);
        gst_pad_add_probe(pad, type, cb, new std::shared_ptr<TurnDataPlane>(data_),
                          [](gpointer p) { delete static_cast<std::shared_ptr<TurnDataPlane> *>(p); });
        gst_object_unref(pad);
    };
    // Added first: it runs before the stream's own probes (latching, DTMF).
    add_probe(src, "src", GST_PAD_PROBE_TYPE_BUFFER, on_received);
    add_probe(sink, "sink", static_cast<GstPadProbeType>(GST_PAD_PROBE_TYPE_BUFFER | GST_PAD_PROBE_TYPE_BUFFER_LIST),
              on_sending);
    stop_reading(); // the udpsrc reads from now on
    return true;
}

void TurnClient::elements_released() { start_reading(); }

void TurnClient::post(const std::weak_ptr<TurnClient *> &owner, std::string datagram, GSocketAddress *from)
{
    struct Job {
        std::weak_ptr<TurnClient *> owner;
        std::string datagram;
        GSocketAddress *from; // owned
    };
    g_idle_add_full(
        G_PRIORITY_DEFAULT,
        [](gpointer p) {
            auto j = static_cast<Job *>(p);
            try {
                if (auto alive = j->owner.lock())
                    (*alive)->on_datagram(reinterpret_cast<const uint8_t *>(j->datagram.data()), j->datagram.size(),
                                          j->from);
            } catch (...) { // nothing may unwind through GLib: the response is lost, its request retransmitted
            }
            return G_SOURCE_REMOVE;
        },
        new Job{owner, std::move(datagram), from ? G_SOCKET_ADDRESS(g_object_ref(from)) : nullptr},
        [](gpointer p) {
            auto j = static_cast<Job *>(p);
            g_clear_object(&j->from);
            delete j;
        });
}

// Streaming thread: the first drop of a kind is logged, on the main loop.
void TurnClient::note_drop(TurnDataPlane &plane, stun::Problem p)
{
    if (!first_drop(plane, p))
        return;
    struct Job {
        std::weak_ptr<TurnClient *> owner;
        stun::Problem problem;
    };
    g_idle_add_full(
        G_PRIORITY_DEFAULT,
        [](gpointer p) {
            auto j = static_cast<Job *>(p);
            try {
                if (auto alive = j->owner.lock())
                    (*alive)->log(MGW_LOG_WARNING, std::string("dropped a datagram: ") + stun::describe(j->problem) +
                                                       " (logged once per kind)");
            } catch (...) { // a lost log line, nothing more
            }
            return G_SOURCE_REMOVE;
        },
        new Job{plane.owner, p}, [](gpointer p) { delete static_cast<Job *>(p); });
}

// udpsrc's thread: ChannelData and Data indications become the peer's
// packet; STUN responses go to the main loop; the rest is dropped.
GstPadProbeReturn TurnClient::on_received(GstPad *, GstPadProbeInfo *info, gpointer data)
{
    auto &plane = **static_cast<std::shared_ptr<TurnDataPlane> *>(data);
    try {
        return receive(plane, info);
    } catch (...) { // nothing may unwind through GStreamer
        return GST_PAD_PROBE_DROP;
    }
}

GstPadProbeReturn TurnClient::receive(TurnDataPlane &plane, GstPadProbeInfo *info)
{
    GstBuffer *buf = GST_PAD_PROBE_INFO_BUFFER(info);
    // Only the server speaks on this socket; anything else is injected.
    GstNetAddressMeta *meta = gst_buffer_get_net_address_meta(buf);
    GSocketAddress *from = meta ? meta->addr : nullptr;
    if (auto p = turn::check_source(from, plane.server ? G_SOCKET_ADDRESS(plane.server) : nullptr);
        p != stun::Problem::None) {
        note_drop(plane, p);
        return GST_PAD_PROBE_DROP;
    }
    ReadMap mapped(buf);
    if (!mapped.ok)
        return GST_PAD_PROBE_DROP;
    const uint8_t *d = mapped.map.data;
    const size_t len = mapped.map.size;
    if (stun::is_channel_data(d, len)) {
        uint16_t bound, requested;
        {
            std::lock_guard<std::mutex> l(plane.lock);
            bound = plane.channel;
            requested = plane.requested;
        }
        size_t n = 0;
        const stun::Problem p = turn::check_channel_data(d, len, bound, requested, n);
        mapped.unmap();
        if (p != stun::Problem::None) {
            note_drop(plane, p);
            return GST_PAD_PROBE_DROP;
        }
        buf = gst_buffer_make_writable(buf);
        gst_buffer_resize(buf, 4, static_cast<gssize>(n)); // drops the header (and any padding)
        GST_PAD_PROBE_INFO_DATA(info) = buf;
        return GST_PAD_PROBE_OK;
    }
    stun::Problem why;
    auto m = stun::Message::parse(d, len, &why);
    std::string raw;
    if (m && (m->cls == stun::Success || m->cls == stun::Error))
        raw.assign(reinterpret_cast<const char *>(d), len);
    mapped.unmap();
    if (!m) {
        note_drop(plane, why);
        return GST_PAD_PROBE_DROP;
    }
    if (m->cls == stun::Indication) {
        std::optional<stun::Address> peer;
        {
            std::lock_guard<std::mutex> l(plane.lock);
            peer = plane.peer;
        }
        if (auto p = turn::check_data_indication(*m, peer); p != stun::Problem::None) {
            note_drop(plane, p);
            return GST_PAD_PROBE_DROP;
        }
        GstBuffer *out = payload_buffer(buf, *m->find(stun::DataAttr));
        gst_buffer_unref(buf);
        GST_PAD_PROBE_INFO_DATA(info) = out;
        return GST_PAD_PROBE_OK;
    }
    if (m->cls == stun::Request)
        note_drop(plane, stun::Problem::NotResponse);
    else // transaction and integrity are checked on the main loop, where the requests are
        post(plane.owner, std::move(raw), from);
    return GST_PAD_PROBE_DROP;
}

namespace {

// One outgoing packet framed for the peer: ChannelData once the channel is
// bound, a Send indication while only the permission exists, else nothing.
GstBuffer *frame(GstBuffer *buf, TurnDataPlane &plane)
{
    uint16_t channel;
    bool permitted;
    std::optional<stun::Address> peer;
    {
        std::lock_guard<std::mutex> l(plane.lock);
        channel = plane.channel;
        permitted = plane.permitted;
        peer = plane.peer;
    }
    const gsize size = gst_buffer_get_size(buf);
    if (channel && size <= 0xFFFF) {
        guint8 *header = static_cast<guint8 *>(g_malloc(4));
        header[0] = static_cast<guint8>(channel >> 8);
        header[1] = static_cast<guint8>(channel & 0xFF);
        header[2] = static_cast<guint8>(size >> 8);
        header[3] = static_cast<guint8>(size & 0xFF);
        buf = gst_buffer_make_writable(buf); // shares the payload's memory
        gst_buffer_prepend_memory(buf, gst_memory_new_wrapped(GST_MEMORY_FLAG_READONLY, header, 4, 0, 4, header, g_free));
        return buf;
    }
    if (!permitted || !peer) {
        gst_buffer_unref(buf);
        return nullptr;
    }
    stun::Message m = stun::Message::make(stun::Send, stun::Indication);
    m.add_address(stun::XorPeerAddress, *peer);
    std::string payload(size, '\0');
    gst_buffer_extract(buf, 0, payload.data(), size);
    m.add(stun::DataAttr, std::move(payload));
    const std::string wire = m.encode();
    GstBuffer *out = gst_buffer_new_memdup(wire.data(), wire.size());
    gst_buffer_copy_into(out, buf, GST_BUFFER_COPY_METADATA, 0, static_cast<gsize>(-1));
    gst_buffer_unref(buf);
    return out;
}

} // namespace

// udpsink's thread (rtpbin's sending side).
GstPadProbeReturn TurnClient::on_sending(GstPad *, GstPadProbeInfo *info, gpointer data)
{
    auto &plane = **static_cast<std::shared_ptr<TurnDataPlane> *>(data);
    try {
        return send(plane, info);
    } catch (...) { // nothing may unwind through GStreamer: the packet is lost
        return GST_PAD_PROBE_DROP;
    }
}

GstPadProbeReturn TurnClient::send(TurnDataPlane &plane, GstPadProbeInfo *info)
{
    if (info->type & GST_PAD_PROBE_TYPE_BUFFER) {
        GstBuffer *out = frame(GST_PAD_PROBE_INFO_BUFFER(info), plane);
        GST_PAD_PROBE_INFO_DATA(info) = out;
        return out ? GST_PAD_PROBE_OK : GST_PAD_PROBE_HANDLED;
    }
    GstBufferList *list = gst_buffer_list_make_writable(GST_PAD_PROBE_INFO_BUFFER_LIST(info));
    for (guint i = gst_buffer_list_length(list); i-- > 0;) {
        GstBuffer *b = gst_buffer_ref(gst_buffer_list_get(list, i));
        GstBuffer *out = frame(b, plane);
        if (out) {
            gst_buffer_list_remove(list, i, 1);
            gst_buffer_list_insert(list, static_cast<gint>(i), out);
        } else {
            gst_buffer_list_remove(list, i, 1);
        }
    }
    GST_PAD_PROBE_INFO_DATA(info) = list;
    if (gst_buffer_list_length(list) == 0) {
        gst_buffer_list_unref(list);
        GST_PAD_PROBE_INFO_DATA(info) = nullptr;
        return GST_PAD_PROBE_HANDLED;
    }
    return GST_PAD_PROBE_OK;
}

} // namespace sipsofia
