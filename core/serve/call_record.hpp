// One JSON record per call, appended as a line to a file (and POSTed to a
// URL when configured; a failed POST is logged, the file keeps the record).
#pragma once

#include <json-glib/json-glib.h>

#include <string>

typedef struct _SoupSession SoupSession;

namespace mediagw::serve {

class CallRecords {
public:
    CallRecords(std::string path, std::string url);
    ~CallRecords();
    CallRecords(const CallRecords &) = delete;

    void write(JsonNode *record); // takes the node
    unsigned long written() const { return written_; }
    // At exit: let POSTs in flight finish, at most `ms` (iterates the main loop).
    void flush(int ms);

private:
    std::string path_, url_;
    SoupSession *session_ = nullptr;
    unsigned long written_ = 0;
    int posting_ = 0; // POSTs in flight
};

} // namespace mediagw::serve
