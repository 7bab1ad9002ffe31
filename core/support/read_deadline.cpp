#include "read_deadline.hpp"

namespace mgwsupport {
namespace {

struct ReadDeadline {
    SoupServerMessage *msg;
    void (*cut)(SoupServerMessage *);
    guint timer = 0;
};

void stop_deadline(ReadDeadline *d)
{
    if (d->timer)
        g_source_remove(d->timer);
    d->timer = 0;
}

} // namespace

void arm_read_deadline(SoupServerMessage *msg, guint seconds, void (*cut)(SoupServerMessage *msg))
{
    auto *d = new ReadDeadline{msg, cut};
    d->timer = g_timeout_add_seconds(seconds,
                                     [](gpointer p) {
                                         auto *dl = static_cast<ReadDeadline *>(p);
                                         dl->timer = 0;
                                         dl->cut(dl->msg);
                                         return G_SOURCE_REMOVE;
                                     },
                                     d);
    auto stop = +[](SoupServerMessage *, gpointer p) { stop_deadline(static_cast<ReadDeadline *>(p)); };
    g_signal_connect(msg, "got-body", G_CALLBACK(stop), d);
    g_signal_connect(msg, "finished", G_CALLBACK(stop), d);
    g_object_weak_ref(
        G_OBJECT(msg),
        [](gpointer p, GObject *) {
            stop_deadline(static_cast<ReadDeadline *>(p));
            delete static_cast<ReadDeadline *>(p);
        },
        d);
}

} // namespace mgwsupport
