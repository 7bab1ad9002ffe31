#include "diagnostics.hpp"

#include <algorithm>
#include <tuple>

namespace mediagw {

std::string Diagnostic::format() const
{
    std::string out = where.file;
    if (where.line > 0) {
        out += ":" + std::to_string(where.line);
        if (where.column > 0)
            out += ":" + std::to_string(where.column);
    }
    return out + ": error: " + message;
}

void Diagnostics::error(const Location &where, std::string message)
{
    list_.push_back({where, std::move(message)});
}

std::string Diagnostics::format() const
{
    std::vector<const Diagnostic *> sorted;
    for (const auto &d : list_)
        sorted.push_back(&d);
    std::stable_sort(sorted.begin(), sorted.end(), [](const Diagnostic *a, const Diagnostic *b) {
        return std::tie(a->where.file, a->where.line, a->where.column) <
               std::tie(b->where.file, b->where.line, b->where.column);
    });
    std::string out;
    for (const auto *d : sorted)
        out += d->format() + "\n";
    return out;
}

static size_t edit_distance(std::string_view a, std::string_view b)
{
    std::vector<size_t> row(b.size() + 1);
    for (size_t j = 0; j <= b.size(); ++j)
        row[j] = j;
    for (size_t i = 1; i <= a.size(); ++i) {
        size_t diag = row[0];
        row[0] = i;
        for (size_t j = 1; j <= b.size(); ++j) {
            size_t up = row[j];
            row[j] = std::min({row[j] + 1, row[j - 1] + 1, diag + (a[i - 1] == b[j - 1] ? 0 : 1)});
            diag = up;
        }
    }
    return row[b.size()];
}

std::string did_you_mean(std::string_view word, const std::vector<std::string> &candidates)
{
    const std::string *best = nullptr;
    size_t best_distance = 0;
    for (const auto &c : candidates) {
        size_t d = edit_distance(word, c);
        if (!best || d < best_distance) {
            best = &c;
            best_distance = d;
        }
    }
    // Close enough to be a typo: at most a third of the word, and at least 1.
    if (best && best_distance <= std::max<size_t>(1, word.size() / 3))
        return " (did you mean '" + *best + "'?)";
    return "";
}

} // namespace mediagw
