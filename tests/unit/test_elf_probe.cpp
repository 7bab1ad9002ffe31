// The loader's look at a module file before dlopen(): copies of a good
// module, truncated or with corrupted headers, and files that are no ELF at
// all are refused with an error naming the file - without loading them and
// without crashing the reader (the file is hostile).
#include "unit.hpp"

#include "abi.hpp"
#include "elf_probe.hpp"
#include "registry.hpp"

#include <cstring>
#include <dlfcn.h>
#include <elf.h>
#include <fstream>
#include <glib/gstdio.h>
#include <iterator>
#include <random>

using mediagw::PluginRegistry;

namespace {

const std::string good_module = std::string(MGW_TEST_PLUGIN_DIR) + "/mgw-test-source.so";

std::string read_file(const std::string &path)
{
    std::ifstream in(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), {}};
}

// A temporary folder removed with its files.
struct TempDir {
    std::string path;
    TempDir() : path(g_dir_make_tmp("mgw-elf-XXXXXX", nullptr)) {}
    ~TempDir()
    {
        if (GDir *d = g_dir_open(path.c_str(), 0, nullptr)) {
            while (const char *f = g_dir_read_name(d))
                g_unlink((path + "/" + f).c_str());
            g_dir_close(d);
        }
        g_rmdir(path.c_str());
    }
    std::string write(const std::string &name, const std::string &bytes) const
    {
        std::string p = path + "/" + name;
        std::ofstream(p, std::ios::binary | std::ios::trunc).write(bytes.data(), (std::streamsize)bytes.size());
        return p;
    }
};

bool still_loaded(const std::string &path)
{
    void *h = dlopen(path.c_str(), RTLD_NOW | RTLD_NOLOAD);
    if (h)
        dlclose(h);
    return h != nullptr;
}

// open_module's refusal of `bytes` saved as mgw-test-source.so; the file is
// never loaded. Returns the message after "<path>: ".
std::string refusal(const std::string &bytes, const std::string &file = "mgw-test-source.so")
{
    TempDir dir;
    const std::string path = dir.write(file, bytes);
    std::string error;
    CHECK(PluginRegistry::open_module(path, "", error) == nullptr);
    CHECK_MESSAGE(error.rfind(path + ": ", 0) == 0, error);
    CHECK_FALSE(still_loaded(path));
    return error.substr(std::min(error.size(), path.size() + 2));
}

template <typename T> T get(const std::string &bytes, size_t at)
{
    T v;
    REQUIRE(at + sizeof v <= bytes.size());
    std::memcpy(&v, bytes.data() + at, sizeof v);
    return v;
}
template <typename T> void put(std::string &bytes, size_t at, T v)
{
    REQUIRE(at + sizeof v <= bytes.size());
    std::memcpy(bytes.data() + at, &v, sizeof v);
}

// The section header of the good module's dynamic symbol table.
size_t dynsym_header(const std::string &elf)
{
    auto eh = get<Elf64_Ehdr>(elf, 0);
    for (size_t i = 0; i < eh.e_shnum; ++i) {
        size_t at = eh.e_shoff + i * sizeof(Elf64_Shdr);
        if (get<Elf64_Shdr>(elf, at).sh_type == SHT_DYNSYM)
            return at;
    }
    FAIL("no .dynsym");
    return 0;
}

} // namespace

TEST_CASE("the good module passes the probe, with the header it was built with")
{
    mediagw::ElfDescriptor d;
    std::string error;
    REQUIRE_MESSAGE(mediagw::probe_elf_descriptor(good_module, MGW_PLUGIN_SYMBOL_NAME, d, error), error);
    CHECK(d.abi_version == MGW_ABI_VERSION);
    CHECK(d.info_size == sizeof(mgw_plugin_info));
    CHECK(d.symbol_size == sizeof(mgw_plugin_info));
    // A copy elsewhere loads as well (the probe reads the copy).
    TempDir dir;
    const std::string copy = dir.write("mgw-test-source.so", read_file(good_module));
    auto p = PluginRegistry::open_module(copy, "test-source", error);
    CHECK_MESSAGE(p, error);
}

TEST_CASE("files that are not a 64-bit ELF shared object for this machine")
{
    CHECK(refusal("#!/bin/sh\necho I am no plugin\n", "mgw-x.so") == "not an ELF file");
    CHECK(refusal("", "mgw-x.so") == "not an ELF file");
    const std::string elf = read_file(good_module);
    REQUIRE(elf.size() > 4096);
    std::string bad = elf;
    bad[EI_CLASS] = ELFCLASS32;
    CHECK(refusal(bad) == "not a 64-bit ELF file");
    bad = elf;
    bad[EI_DATA] = elf[EI_DATA] == ELFDATA2LSB ? ELFDATA2MSB : ELFDATA2LSB;
    CHECK(refusal(bad) == "ELF file of another byte order or version");
    bad = elf;
    put<Elf64_Half>(bad, offsetof(Elf64_Ehdr, e_type), ET_EXEC);
    CHECK(refusal(bad) == "not a shared object (ELF type 2)");
    bad = elf;
    const Elf64_Half other = get<Elf64_Half>(elf, offsetof(Elf64_Ehdr, e_machine)) == EM_AARCH64 ? EM_X86_64
                                                                                                   : EM_AARCH64;
    put<Elf64_Half>(bad, offsetof(Elf64_Ehdr, e_machine), other);
    CHECK(refusal(bad).rfind("built for another machine (ELF machine " + std::to_string(other), 0) == 0);
}

TEST_CASE("truncated copies are refused, not read past their end")
{
    const std::string elf = read_file(good_module);
    for (size_t len : {size_t(4), sizeof(Elf64_Ehdr) - 1})
        CHECK(refusal(elf.substr(0, len)) == "not an ELF file");
    for (size_t len : {sizeof(Elf64_Ehdr), size_t(4096), elf.size() / 2, elf.size() - 1})
        CHECK(refusal(elf.substr(0, len)) == "section header table lies outside the file (truncated?)");
}

TEST_CASE("corrupted headers and tables are refused with a precise reason")
{
    const std::string elf = read_file(good_module);
    std::string bad = elf;
    put<Elf64_Off>(bad, offsetof(Elf64_Ehdr, e_shoff), ~Elf64_Off(0) - 8);
    CHECK(refusal(bad) == "section header table lies outside the file (truncated?)");
    bad = elf;
    put<Elf64_Half>(bad, offsetof(Elf64_Ehdr, e_shnum), 0xfff0);
    CHECK(refusal(bad) == "section header table lies outside the file (truncated?)");
    bad = elf;
    put<Elf64_Half>(bad, offsetof(Elf64_Ehdr, e_shentsize), 12);
    CHECK(refusal(bad) == "no usable section header table");

    const size_t dynsym = dynsym_header(elf);
    bad = elf;
    put<Elf64_Off>(bad, dynsym + offsetof(Elf64_Shdr, sh_offset), elf.size() - 8);
    CHECK(refusal(bad) == "dynamic symbol table lies outside the file (truncated?)");
    bad = elf;
    put<Elf64_Word>(bad, dynsym + offsetof(Elf64_Shdr, sh_link), 0xffff);
    CHECK(refusal(bad) == "malformed dynamic symbol table");
    bad = elf;
    put<Elf64_Word>(bad, dynsym + offsetof(Elf64_Shdr, sh_type), SHT_PROGBITS);
    CHECK(refusal(bad) == "no dynamic symbol table");

    // The descriptor's name in .dynstr misspelt: no descriptor.
    bad = elf;
    size_t name = bad.find(MGW_PLUGIN_SYMBOL_NAME + std::string(1, '\0'));
    REQUIRE(name != std::string::npos);
    bad[name] = 'M';
    CHECK(refusal(bad) == "not a mediagw plugin (no '" MGW_PLUGIN_SYMBOL_NAME "' symbol)");

    // Its symbol pointing outside its section, or at another ABI version.
    auto sh = get<Elf64_Shdr>(elf, dynsym);
    auto strtab = get<Elf64_Shdr>(elf, get<Elf64_Ehdr>(elf, 0).e_shoff + sh.sh_link * sizeof(Elf64_Shdr));
    size_t sym_at = 0;
    for (size_t at = sh.sh_offset; at + sizeof(Elf64_Sym) <= sh.sh_offset + sh.sh_size; at += sizeof(Elf64_Sym)) {
        auto s = get<Elf64_Sym>(elf, at);
        const char *sym_name = elf.c_str() + strtab.sh_offset + s.st_name;
        if (s.st_shndx != SHN_UNDEF && std::strcmp(sym_name, MGW_PLUGIN_SYMBOL_NAME) == 0)
            sym_at = at;
    }
    REQUIRE(sym_at);
    bad = elf;
    put<Elf64_Addr>(bad, sym_at + offsetof(Elf64_Sym, st_value), 0x7ffffffffff0);
    CHECK(refusal(bad) == "'" MGW_PLUGIN_SYMBOL_NAME "' lies outside its section");
    bad = elf;
    put<Elf64_Half>(bad, sym_at + offsetof(Elf64_Sym, st_shndx), 0xfeff);
    CHECK(refusal(bad) == "'" MGW_PLUGIN_SYMBOL_NAME "' is not an exported data object");

    mediagw::ElfDescriptor d;
    std::string error;
    REQUIRE(mediagw::probe_elf_descriptor(good_module, MGW_PLUGIN_SYMBOL_NAME, d, error));
    auto st = get<Elf64_Sym>(elf, sym_at);
    auto sec = get<Elf64_Shdr>(elf, get<Elf64_Ehdr>(elf, 0).e_shoff + st.st_shndx * sizeof(Elf64_Shdr));
    const size_t descriptor = sec.sh_offset + (st.st_value - sec.sh_addr);
    CHECK(get<uint32_t>(elf, descriptor) == MGW_ABI_VERSION);
    bad = elf;
    put<uint32_t>(bad, descriptor, 7);
    CHECK(refusal(bad).rfind("plugin ABI version 7, this mediagw expects version 1", 0) == 0);
    bad = elf;
    put<uint32_t>(bad, descriptor + 4, 16);
    CHECK(refusal(bad) == "plugin descriptor is 16 bytes, smaller than the ABI 1 baseline of " +
                              std::to_string(mediagw::abi::info_size_v1) + " bytes");
    bad = elf;
    put<uint32_t>(bad, descriptor + 4, 4096);
    CHECK(refusal(bad) == "plugin descriptor claims 4096 bytes but its symbol has " +
                              std::to_string(sizeof(mgw_plugin_info)));
}

// Any damage to the parts the probe reads: it answers, it does not crash.
TEST_CASE("the probe survives random corruption of what it reads")
{
    const std::string elf = read_file(good_module);
    auto eh = get<Elf64_Ehdr>(elf, 0);
    const size_t dynsym = dynsym_header(elf);
    auto sh = get<Elf64_Shdr>(elf, dynsym);
    // (offset, length) of the ELF header, the section headers, .dynsym.
    const std::pair<size_t, size_t> regions[] = {
        {0, sizeof(Elf64_Ehdr)},
        {eh.e_shoff, eh.e_shnum * sizeof(Elf64_Shdr)},
        {sh.sh_offset, sh.sh_size},
    };
    TempDir dir;
    std::mt19937 random(42);
    int accepted = 0;
    for (int round = 0; round < 600; ++round) {
        std::string bad = elf;
        auto [start, length] = regions[round % 3];
        for (int flips = 1 + round % 4; flips > 0; --flips)
            bad[start + random() % length] = static_cast<char>(random());
        if (round % 5 == 0)
            bad.resize(random() % bad.size());
        const std::string path = dir.write("mgw-fuzz.so", bad);
        mediagw::ElfDescriptor d;
        std::string error;
        if (mediagw::probe_elf_descriptor(path, MGW_PLUGIN_SYMBOL_NAME, d, error))
            ++accepted;
        else
            CHECK(!error.empty());
    }
    MESSAGE(accepted, " of 600 corrupted copies still had a readable descriptor header");
}
