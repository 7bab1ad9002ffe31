// Errors that point at the text: "file:line:col: error: message".
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace mediagw {

struct Location {
    std::string file; // a path, or "<command line>"
    int line = 0;     // 1-based; 0 when unknown
    int column = 0;
};

struct Diagnostic {
    Location where;
    std::string message;
    std::string format() const;
};

class Diagnostics {
public:
    void error(const Location &where, std::string message);
    bool empty() const { return list_.empty(); }
    size_t size() const { return list_.size(); }
    const std::vector<Diagnostic> &list() const { return list_; }
    std::string format() const; // one line per error, in file order (then the order found)

private:
    std::vector<Diagnostic> list_;
};

// " (did you mean 'x'?)" for the closest candidate, or "" when none is close.
std::string did_you_mean(std::string_view word, const std::vector<std::string> &candidates);

} // namespace mediagw
