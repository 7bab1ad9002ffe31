// A SoupServer request must arrive whole (headers and body) within a bound:
// a client that trickles bytes (slowloris) loses its connection instead of
// holding it. Connect arm_read_deadline to the server's "request-started".
#pragma once

#include <libsoup/soup.h>

#include <functional>

namespace mgwsupport {

// Starts the deadline for `msg`: after `seconds` without its "got-body",
// `cut(msg)` runs (on the main loop) and should drop the connection.
// Disarmed by got-body, finished, or the message's end.
void arm_read_deadline(SoupServerMessage *msg, guint seconds, void (*cut)(SoupServerMessage *msg));

} // namespace mgwsupport
