// Reads a plugin module's descriptor header from the file, without loading
// it: dlopen() would run the module's constructors before any check.
#pragma once

#include <cstdint>
#include <string>

namespace mediagw {

struct ElfDescriptor {
    uint32_t abi_version = 0;
    uint32_t info_size = 0;
    uint64_t symbol_size = 0; // st_size of the descriptor symbol (0: unknown)
};

// `path` must be a 64-bit ELF shared object for this machine whose dynamic
// symbol table defines `symbol` as data with file contents; its first two
// uint32s are returned. The file is treated as hostile: every read is
// bounded by the file size. false with `error` (without the path) otherwise.
bool probe_elf_descriptor(const std::string &path, const char *symbol, ElfDescriptor &out, std::string &error);

} // namespace mediagw
