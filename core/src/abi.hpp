// What the host may read of a module's ABI structures: the ABI-1 baseline
// sizes (the least a module may declare) and size-bounded copies into this
// host's layout. Structures only grow by appending, so a field exists in a
// module's struct exactly when its declared size reaches past the field.
#pragma once

#include <mediagw/plugin.h>

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <type_traits>

namespace mediagw::abi {

// End of a member: a struct of size >= this includes it.
#define MGW_MEMBER_END(type, member) (offsetof(type, member) + sizeof(((type *)0)->member))

// ABI 1 as first released: these fields every module has.
constexpr size_t info_size_v1 = MGW_MEMBER_END(mgw_plugin_info, create);
constexpr size_t property_size_v1 = MGW_MEMBER_END(mgw_property_spec, description);
constexpr size_t port_size_v1 = MGW_MEMBER_END(mgw_port_spec, description);

// `size` bytes of a module's struct at `p` as this host's T: fields the
// module does not have read as zero (NULL), fields it has beyond T are not
// read at all.
template <typename T> T read_prefix(const void *p, size_t size)
{
    static_assert(std::is_trivially_copyable_v<T>);
    T out{};
    std::memcpy(static_cast<void *>(&out), p, std::min(size, sizeof(T)));
    return out;
}

} // namespace mediagw::abi
