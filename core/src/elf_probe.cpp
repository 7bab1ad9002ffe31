#include "elf_probe.hpp"

#include <cerrno>
#include <cstring>
#include <elf.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <vector>

namespace mediagw {

static_assert(sizeof(void *) == 8, "the plugin pre-check reads 64-bit ELF only");

#if defined(__x86_64__)
static constexpr Elf64_Half host_machine = EM_X86_64;
#elif defined(__aarch64__)
static constexpr Elf64_Half host_machine = EM_AARCH64;
#elif defined(__riscv)
static constexpr Elf64_Half host_machine = EM_RISCV;
#elif defined(__powerpc64__)
static constexpr Elf64_Half host_machine = EM_PPC64;
#elif defined(__s390x__)
static constexpr Elf64_Half host_machine = EM_S390;
#else
#error "elf_probe.cpp: add this machine's EM_ constant"
#endif

static constexpr unsigned char host_data =
    __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__ ? ELFDATA2LSB : ELFDATA2MSB;

// Tables larger than this are not a plugin's (and would cost memory to read).
static constexpr uint64_t max_table = 64u << 20;

namespace {

// Bounded reads of an open file: nothing outside [0, size) is ever asked for.
class File {
public:
    explicit File(const std::string &path) : fd_(open(path.c_str(), O_RDONLY | O_CLOEXEC)) {}
    ~File()
    {
        if (fd_ >= 0)
            close(fd_);
    }
    File(const File &) = delete;

    int fd() const { return fd_; }
    uint64_t size = 0;

    // Does [offset, offset + length) lie inside the file (no overflow)?
    bool contains(uint64_t offset, uint64_t length) const { return offset <= size && length <= size - offset; }

    bool read(uint64_t offset, void *buf, uint64_t length) const
    {
        if (!contains(offset, length))
            return false;
        auto *p = static_cast<char *>(buf);
        while (length > 0) {
            ssize_t n = pread(fd_, p, length, static_cast<off_t>(offset));
            if (n < 0 && errno == EINTR)
                continue;
            if (n <= 0)
                return false;
            p += n;
            offset += static_cast<uint64_t>(n);
            length -= static_cast<uint64_t>(n);
        }
        return true;
    }

    // A whole section's contents, bounded by max_table.
    bool read_section(const Elf64_Shdr &sh, std::vector<char> &out) const
    {
        if (sh.sh_type == SHT_NOBITS || sh.sh_size > max_table || !contains(sh.sh_offset, sh.sh_size))
            return false;
        out.resize(sh.sh_size);
        return read(sh.sh_offset, out.data(), sh.sh_size);
    }

private:
    int fd_;
};

bool fail(std::string &error, std::string why)
{
    error = std::move(why);
    return false;
}

} // namespace

bool probe_elf_descriptor(const std::string &path, const char *symbol, ElfDescriptor &out, std::string &error)
{
    File f(path);
    struct stat st;
    if (f.fd() < 0 || fstat(f.fd(), &st) != 0)
        return fail(error, std::string("cannot open: ") + std::strerror(errno));
    if (!S_ISREG(st.st_mode))
        return fail(error, "not a regular file");
    f.size = static_cast<uint64_t>(st.st_size);

    Elf64_Ehdr eh;
    if (!f.read(0, &eh, sizeof eh) || std::memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0)
        return fail(error, "not an ELF file");
    if (eh.e_ident[EI_CLASS] != ELFCLASS64)
        return fail(error, "not a 64-bit ELF file");
    if (eh.e_ident[EI_DATA] != host_data || eh.e_ident[EI_VERSION] != EV_CURRENT || eh.e_version != EV_CURRENT)
        return fail(error, "ELF file of another byte order or version");
    if (eh.e_type != ET_DYN)
        return fail(error, "not a shared object (ELF type " + std::to_string(eh.e_type) + ")");
    if (eh.e_machine != host_machine)
        return fail(error, "built for another machine (ELF machine " + std::to_string(eh.e_machine) + ", this is " +
                               std::to_string(host_machine) + ")");

    // Section headers. A module stripped of them (sstrip) cannot be checked
    // without the dynamic linker's view, so it is refused rather than run.
    if (eh.e_shoff == 0 || eh.e_shentsize != sizeof(Elf64_Shdr))
        return fail(error, "no usable section header table");
    Elf64_Shdr first;
    if (!f.read(eh.e_shoff, &first, sizeof first))
        return fail(error, "section header table lies outside the file (truncated?)");
    // More than SHN_LORESERVE sections: the count is in section 0's sh_size.
    uint64_t shnum = eh.e_shnum ? eh.e_shnum : first.sh_size;
    if (shnum == 0 || shnum > max_table / sizeof(Elf64_Shdr) || !f.contains(eh.e_shoff, shnum * sizeof(Elf64_Shdr)))
        return fail(error, "section header table lies outside the file (truncated?)");
    std::vector<Elf64_Shdr> sh(shnum);
    if (!f.read(eh.e_shoff, sh.data(), shnum * sizeof(Elf64_Shdr)))
        return fail(error, "cannot read the section header table");

    const Elf64_Shdr *dynsym = nullptr;
    for (auto &s : sh)
        if (s.sh_type == SHT_DYNSYM) {
            dynsym = &s;
            break;
        }
    if (!dynsym)
        return fail(error, "no dynamic symbol table");
    if (dynsym->sh_entsize != sizeof(Elf64_Sym) || dynsym->sh_link == 0 || dynsym->sh_link >= shnum ||
        sh[dynsym->sh_link].sh_type != SHT_STRTAB)
        return fail(error, "malformed dynamic symbol table");
    std::vector<char> syms, names;
    if (!f.read_section(*dynsym, syms) || !f.read_section(sh[dynsym->sh_link], names))
        return fail(error, "dynamic symbol table lies outside the file (truncated?)");

    const size_t symbol_len = std::strlen(symbol);
    Elf64_Sym sym{};
    bool found = false;
    for (size_t off = 0; !found && off + sizeof(Elf64_Sym) <= syms.size(); off += sizeof(Elf64_Sym)) {
        std::memcpy(&sym, syms.data() + off, sizeof sym);
        // Defined here (not a reference to someone else's descriptor), and
        // the name with its terminator inside the string table.
        found = sym.st_shndx != SHN_UNDEF && sym.st_name < names.size() &&
                names.size() - sym.st_name > symbol_len &&
                std::memcmp(names.data() + sym.st_name, symbol, symbol_len + 1) == 0;
    }
    if (!found)
        return fail(error, std::string("not a mediagw plugin (no '") + symbol + "' symbol)");
    const int bind = ELF64_ST_BIND(sym.st_info);
    if (ELF64_ST_TYPE(sym.st_info) != STT_OBJECT || (bind != STB_GLOBAL && bind != STB_WEAK) ||
        sym.st_shndx >= shnum || sym.st_shndx >= SHN_LORESERVE)
        return fail(error, std::string("'") + symbol + "' is not an exported data object");

    // The descriptor's first two fields are plain integers: no relocation
    // applies to them, so the file holds the values the loaded module has.
    // The rest of it is pointers, which only the dynamic linker's relocation
    // (run by dlopen, with the module's constructors) fills in: those fields
    // are checked after loading.
    const Elf64_Shdr &sec = sh[sym.st_shndx];
    if (sec.sh_type == SHT_NOBITS)
        return fail(error, std::string("'") + symbol + "' has no contents in the file (a zero-filled section: is it "
                                                            "initialised at run time? it must be a constant)");
    const uint64_t header = 2 * sizeof(uint32_t);
    if (sym.st_value < sec.sh_addr || sym.st_value - sec.sh_addr > sec.sh_size ||
        sec.sh_size - (sym.st_value - sec.sh_addr) < header)
        return fail(error, std::string("'") + symbol + "' lies outside its section");
    const uint64_t at = sec.sh_offset + (sym.st_value - sec.sh_addr);
    uint32_t words[2];
    if (at < sec.sh_offset || !f.read(at, words, sizeof words))
        return fail(error, std::string("'") + symbol + "' lies outside the file (truncated?)");
    out.abi_version = words[0];
    out.info_size = words[1];
    out.symbol_size = sym.st_size;
    return true;
}

} // namespace mediagw
