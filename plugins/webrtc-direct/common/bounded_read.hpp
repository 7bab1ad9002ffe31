// An HTTP request whose response body is read with a bound (libsoup 3 on the
// main loop): soup_session_send_and_read would take whatever a server sends.
// A body over the bound - by its Content-Length, or once that many bytes
// came - ends the request with an error naming the URL (its query left out:
// Janus' long-poll carries the API token there); the connection is dropped,
// not drained.
#pragma once

#include "common/guard.hpp"

#include <libsoup/soup.h>

#include <functional>

namespace webrtcdirect {

// `body`: the whole body on success (valid during the call), else nullptr
// with `error` set; G_IO_ERROR_CANCELLED when `cancel` fired (the owner is
// gone: nothing to report), G_IO_ERROR_MESSAGE_TOO_LARGE past `limit`.
// The message's status and headers are readable in `done`.
using BodyDone = std::function<void(GBytes *body, const GError *error)>;

// Sends `msg` (a reference is taken); `done` runs once, guarded (an
// exception in it becomes `fail`).
void send_bounded(SoupSession *session, SoupMessage *msg, GCancellable *cancel, gsize limit, Fail fail,
                  BodyDone done);

// The message's URL for messages: no user information, no query.
std::string url_for_messages(SoupMessage *msg);

} // namespace webrtcdirect
