#include "json_nesting.hpp"

#include <algorithm>

namespace mgwsupport {

int json_nesting(const char *data, std::size_t size, int limit)
{
    int depth = 0, deepest = 0;
    bool in_string = false;
    for (std::size_t i = 0; i < size && deepest <= limit; ++i) {
        const char c = data[i];
        if (in_string) {
            if (c == '\\')
                ++i;
            else if (c == '"')
                in_string = false;
        } else if (c == '"') {
            in_string = true;
        } else if (c == '[' || c == '{') {
            deepest = std::max(deepest, ++depth);
        } else if (c == ']' || c == '}') {
            --depth;
        }
    }
    return deepest;
}

} // namespace mgwsupport
