#include "page_session.hpp"

#include "json_fields.hpp"
#include "loggable_url.hpp"

#include <cstdio>
#include <vector>

namespace browsercapture {

PageSession::PageSession(DevToolsPipe &pipe, std::string binding, std::string script, int width, int height,
                         Callbacks cb)
    : pipe_(pipe), binding_(std::move(binding)), script_(std::move(script)), width_(width), height_(height),
      cb_(std::move(cb))
{
}

PageSession::~PageSession()
{
    if (load_timer_)
        g_source_remove(load_timer_);
}

void PageSession::fail(const std::string &why)
{
    if (failed_)
        return;
    failed_ = true;
    loading_ = false;
    if (load_timer_) {
        g_source_remove(load_timer_);
        load_timer_ = 0;
    }
    if (cb_.failed) {
        auto failed = cb_.failed;
        failed(why);
    }
}

void PageSession::open(const std::string &url, guint load_timeout_ms)
{
    url_ = url;
    load_timeout_ms_ = load_timeout_ms;
    std::weak_ptr<int> alive = alive_;
    pipe_.call("Target.createTarget", "{\"url\":\"about:blank\"}", "", [this, alive](const DevToolsPipe::Reply &r) {
        if (!alive.lock())
            return;
        target_ = member_string(r.result, "targetId");
        if (!r.ok || target_.empty())
            return fail("Chromium opened no tab: " + (r.ok ? std::string("no target id") : r.error));
        pipe_.call("Target.attachToTarget", "{\"targetId\":" + json_quote(target_) + ",\"flatten\":true}", "",
                   [this, alive](const DevToolsPipe::Reply &a) {
                       if (!alive.lock())
                           return;
                       session_ = member_string(a.result, "sessionId");
                       if (!a.ok || session_.empty())
                           return fail("cannot attach to Chromium's tab: " + a.error);
                       step(0);
                   });
    });
}

// The tab's set-up, one command after the other, then the navigation.
void PageSession::step(size_t i)
{
    const std::vector<std::pair<std::string, std::string>> steps{
        {"Page.enable", "{}"},
        {"Runtime.enable", "{}"},
        {"Inspector.enable", "{}"},
        {"Runtime.addBinding", "{\"name\":" + json_quote(binding_) + "}"},
        {"Page.addScriptToEvaluateOnNewDocument", "{\"source\":" + json_quote(script_) + "}"},
        // The page believes it has the focus, as a visible tab would.
        {"Emulation.setFocusEmulationEnabled", "{\"enabled\":true}"},
    };
    if (i == steps.size())
        return fit_viewport([this] { navigate(); });
    std::weak_ptr<int> alive = alive_;
    const std::string method = steps[i].first;
    pipe_.call(method, steps[i].second, session_, [this, alive, i, method](const DevToolsPipe::Reply &r) {
        if (!alive.lock())
            return;
        if (!r.ok)
            return fail(method + " failed: " + r.error);
        step(i + 1);
    });
}

// The viewport must be the configured size: tab capture delivers what the
// tab's view is (a device-metrics override does not change that), and a
// headless window loses some of its height to browser UI nobody sees (87 px
// here), more once an infobar shows (the "sharing this tab" one, 56 px).
// Measure the difference and grow the window by it.
void PageSession::fit_viewport(std::function<void()> then)
{
    std::weak_ptr<int> alive = alive_;
    auto next = [alive, then = std::move(then)] {
        if (alive.lock() && then)
            then();
    };
    evaluate("[innerWidth, innerHeight]", [this, alive, next](const EvalResult &size) {
        if (!alive.lock())
            return;
        int w = 0, h = 0;
        if (!size.ok || sscanf(size.json.c_str(), "[%d,%d]", &w, &h) != 2 || w <= 0 || h <= 0 ||
            (w == width_ && h == height_))
            return next();
        const int dw = width_ - w, dh = height_ - h;
        pipe_.call("Browser.getWindowForTarget", "{\"targetId\":" + json_quote(target_) + "}", "",
                   [this, alive, dw, dh, next](const DevToolsPipe::Reply &r) {
                       if (!alive.lock())
                           return;
                       const gint64 window = member_int(r.result, "windowId");
                       JsonObject *bounds = r.ok && r.result && json_object_has_member(r.result, "bounds")
                                                ? json_object_get_object_member(r.result, "bounds")
                                                : nullptr;
                       if (!window || !bounds)
                           return next();
                       const std::string params =
                           "{\"windowId\":" + std::to_string(window) + ",\"bounds\":{\"width\":" +
                           std::to_string(member_int(bounds, "width") + dw) +
                           ",\"height\":" + std::to_string(member_int(bounds, "height") + dh) + "}}";
                       pipe_.call("Browser.setWindowBounds", params, "",
                                  [next](const DevToolsPipe::Reply &) { next(); });
                   });
    });
}

void PageSession::navigate()
{
    loading_ = true;
    load_timer_ = g_timeout_add(load_timeout_ms_, [](gpointer self) -> gboolean {
        auto *me = static_cast<PageSession *>(self);
        me->load_timer_ = 0;
        me->fail("the page " + loggable_url(me->url_) + " did not load within " + std::to_string(me->load_timeout_ms_ / 1000) +
                 " s");
        return G_SOURCE_REMOVE;
    }, this);
    std::weak_ptr<int> alive = alive_;
    pipe_.call("Page.navigate", "{\"url\":" + json_quote(url_) + "}", session_,
               [this, alive](const DevToolsPipe::Reply &r) {
                   if (!alive.lock())
                       return;
                   const std::string error = r.ok ? member_string(r.result, "errorText") : r.error;
                   if (!error.empty())
                       fail("the page " + loggable_url(url_) + " did not load: " + error);
               });
}

void PageSession::evaluate(const std::string &expression, std::function<void(const EvalResult &)> done, int context,
                           guint timeout_ms)
{
    std::string params = "{\"expression\":" + json_quote(expression) +
                         ",\"returnByValue\":true,\"awaitPromise\":true,\"userGesture\":true";
    if (context)
        params += ",\"contextId\":" + std::to_string(context);
    params += "}";
    pipe_.call(
        "Runtime.evaluate", params, session_,
        [done = std::move(done)](const DevToolsPipe::Reply &r) {
            EvalResult out;
            if (!r.ok) {
                out.error = r.error;
            } else if (r.result && json_object_has_member(r.result, "exceptionDetails")) {
                JsonObject *details = json_object_get_object_member(r.result, "exceptionDetails");
                JsonObject *exception = details && json_object_has_member(details, "exception")
                                            ? json_object_get_object_member(details, "exception")
                                            : nullptr;
                out.error = member_string(exception, "description");
                if (out.error.empty())
                    out.error = member_string(details, "text");
                if (out.error.empty())
                    out.error = "the script threw";
            } else {
                out.ok = true;
                JsonObject *result = r.result && json_object_has_member(r.result, "result")
                                         ? json_object_get_object_member(r.result, "result")
                                         : nullptr;
                JsonNode *value = result && json_object_has_member(result, "value")
                                      ? json_object_get_member(result, "value")
                                      : nullptr;
                if (value) {
                    gchar *text = json_to_string(value, FALSE);
                    out.json = text;
                    g_free(text);
                } else {
                    out.json = "null";
                }
            }
            if (done)
                done(out);
        },
        timeout_ms);
}

void PageSession::on_event(const std::string &method, JsonObject *params, const std::string &session)
{
    if (method == "Target.detachedFromTarget" && member_string(params, "sessionId") == session_ && !session_.empty())
        return fail("Chromium closed the page's tab");
    if (method == "Target.targetCrashed" && member_string(params, "targetId") == target_)
        return fail("the page's renderer crashed (" + member_string(params, "status") + ")");
    if (session.empty() || session != session_)
        return;
    if (method == "Inspector.targetCrashed")
        return fail("the page's renderer crashed");
    if (method == "Page.loadEventFired" && loading_) {
        loading_ = false;
        if (load_timer_) {
            g_source_remove(load_timer_);
            load_timer_ = 0;
        }
        if (cb_.loaded)
            cb_.loaded();
    } else if (method == "Page.javascriptDialogOpening") {
        // alert()/confirm()/beforeunload would stop the page until someone
        // clicks: nobody will.
        pipe_.call("Page.handleJavaScriptDialog", "{\"accept\":true}", session_, nullptr);
    } else if (method == "Runtime.bindingCalled" && member_string(params, "name") == binding_) {
        const std::string payload = member_string(params, "payload");
        if (payload.size() > max_message)
            return;
        if (cb_.message)
            cb_.message(payload, int(member_int(params, "executionContextId")));
    }
}

} // namespace browsercapture
