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

// Levenshtein distance counting a swap of two adjacent letters as one edit
// (optimal string alignment): "nmae" is one typo away from "name".
static size_t edit_distance(std::string_view a, std::string_view b)
{
    std::vector<std::vector<size_t>> d(a.size() + 1, std::vector<size_t>(b.size() + 1));
    for (size_t i = 0; i <= a.size(); ++i)
        d[i][0] = i;
    for (size_t j = 0; j <= b.size(); ++j)
        d[0][j] = j;
    for (size_t i = 1; i <= a.size(); ++i)
        for (size_t j = 1; j <= b.size(); ++j) {
            d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)});
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
                d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
        }
    return d[a.size()][b.size()];
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
