/*
 * backtrace.c - chapter 3: where a greenlet that is not running stands,
 * frame by frame, named (backtrace.h).  green_dump's backtraces.
 *
 * Walking.  The kit is built with -fno-omit-frame-pointer, so every
 * function of ours starts by pushing its caller's frame pointer and
 * pointing the frame pointer at it.  The frames form a chain on the stack:
 *
 *     fp -> [ the caller's fp ][ the return address into the caller ]
 *
 * (the same two words on x86-64 and AArch64).  A parked greenlet's chain
 * starts at the registers its context switch saved (green_ctx_saved_regs,
 * ctx.h), a running one's at the registers a signal interrupted.  The walk
 * trusts nothing it reads: each frame must sit inside the greenlet's stack,
 * above the one before (stacks grow down, so callers live higher up), and
 * there are at most GREEN_BT_MAX of them.  A corrupt stack gives a short
 * backtrace, never a crash.  (gdb and libunwind read the DWARF unwind
 * tables instead, which work without frame pointers: far more code.)
 *
 * Naming.  dladdr() finds which loaded object holds an address, but names
 * only exported symbols: for a static function it gives the nearest
 * exported one before it, which is wrong.  The object's own ELF symbol
 * table (.symtab, kept unless the file is stripped) has every function,
 * static ones included, with its size; we read it from the file with
 * pread() into fixed buffers, which a signal handler may do.
 */
#include "backtrace.h"

#include <dlfcn.h>
#include <elf.h>
#if __has_include(<valgrind/memcheck.h>)
#include <valgrind/memcheck.h>
#endif
#include <fcntl.h>
#include <link.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

/* ---- Walking ------------------------------------------------------------ */

/* A signal may stop a function that keeps no frame of its own: a leaf,
 * like libc's read() or the vDSO's clock_gettime(), that calls nobody
 * and so never pushes the frame pointer.  Then fp is still its caller's
 * frame, and the walk would skip the caller, the very function a student
 * looks for.  On x86-64 the caller's return address is then the word at
 * sp: we take it if it is inside a loaded object and the bytes before it
 * are a call instruction (E8 rel32, or FF /2 through a register or
 * memory, 2 to 7 bytes long).  On AArch64 it would be in the link
 * register, which green_ctx_regs_t does not carry: such a caller is
 * missing there. */
__attribute__((no_sanitize_address))
static void *leaf_caller(void *sp, uintptr_t lo, uintptr_t top)
{
#if defined(__x86_64__)
    Dl_info info;
    if ((uintptr_t)sp < lo || (uintptr_t)sp + sizeof(void *) > top)
        return NULL;
#ifdef VALGRIND_GET_VBITS
    /* Under Valgrind: the word at sp may be one nobody wrote (the stopped
     * function's own frame keeps nothing there).  Ask before reading. */
    uint64_t vbits = 0;
    if (VALGRIND_GET_VBITS(sp, &vbits, sizeof vbits) == 1 && vbits != 0)
        return NULL;
#endif
    const unsigned char *ret = *(const unsigned char *const *)sp;
    if (ret == NULL || dladdr(ret - 7, &info) == 0 || dladdr(ret, &info) == 0)
        return NULL;
    if (ret[-5] == 0xE8)
        return (void *)ret;
    for (int len = 2; len <= 7; len++)
        if (ret[-len] == 0xFF && ((ret[1 - len] >> 3) & 7) == 2)
            return (void *)ret;
#else
    (void)sp;
    (void)lo;
    (void)top;
#endif
    return NULL;
}

/* Reads other stacks word by word: AddressSanitizer must not check them
 * (a greenlet's frames are not this function's business). */
__attribute__((no_sanitize_address))
int green__backtrace(void *pc, void *fp, void *sp, const void *hi, int stopped,
                     void **pcs, int max)
{
    uintptr_t lo = (uintptr_t)sp, top = (uintptr_t)hi;
    uintptr_t f = (uintptr_t)fp;
    int n = 0;
    if (max <= 0)
        return 0;
    if (pc != NULL)
        pcs[n++] = pc;
    void *caller = stopped ? leaf_caller(sp, lo, top) : NULL;
    if (caller && n < max && f >= lo && f + 2 * sizeof(void *) <= top
        && ((void *const *)f)[1] != caller)
        pcs[n++] = caller;
    while (n < max) {
        /* Inside the stack, aligned, with room for its two words. */
        if (f < lo || top < 2 * sizeof(void *) || f > top - 2 * sizeof(void *)
            || f % sizeof(void *) != 0)
            break;
        void *const *frame = (void *const *)f;
        uintptr_t caller_fp = (uintptr_t)frame[0];
        if (frame[1] == NULL)
            break;                      /* the first frame of the stack */
        pcs[n++] = frame[1];
        if (caller_fp <= f)
            break;                      /* frames must go up */
        f = caller_fp;
    }
    return n;
}

/* ---- Naming ------------------------------------------------------------- */

/* An object whose symbol table we found: where it is in its file. */
struct object {
    uintptr_t bias;         /* add to a symbol's value: its address */
    int fd;
    off_t symtab;           /* offset of the symbol table in the file */
    size_t nsyms;
    off_t strtab;           /* offset of the names */
};

/* A few open objects, for the frames of one dump: the program, libgreen,
 * libc, libevent.  One dump at a time (backtrace.h). */
#define OBJECTS 6
static struct object objects[OBJECTS];
static int nobjects;

static int read_at(int fd, void *buf, size_t len, off_t at)
{
    return pread(fd, buf, len, at) == (ssize_t)len ? 0 : -1;
}

/* Find the section of type `type` (SHT_SYMTAB, SHT_DYNSYM) and its
 * string table.  0, or -1 when the file has none. */
static int find_symbols(struct object *o, const ElfW(Ehdr) *eh, unsigned type)
{
    for (unsigned i = 0; i < eh->e_shnum; i++) {
        ElfW(Shdr) sh, str;
        if (read_at(o->fd, &sh, sizeof sh, (off_t)(eh->e_shoff + (size_t)i * eh->e_shentsize)) != 0)
            return -1;
        if (sh.sh_type != type || sh.sh_entsize != sizeof(ElfW(Sym))
            || read_at(o->fd, &str, sizeof str,
                       (off_t)(eh->e_shoff + (size_t)sh.sh_link * eh->e_shentsize)) != 0)
            continue;
        o->symtab = (off_t)sh.sh_offset;
        o->nsyms = sh.sh_size / sizeof(ElfW(Sym));
        o->strtab = (off_t)str.sh_offset;
        return 0;
    }
    return -1;
}

/* The object holding the code at `bias` (its link map), opened.  The main
 * program's link map has an empty name: /proc/self/exe is its file. */
static struct object *object_of(const struct link_map *lm)
{
    for (int i = 0; i < nobjects; i++)
        if (objects[i].bias == lm->l_addr)
            return &objects[i];
    if (nobjects == OBJECTS)
        return NULL;
    struct object *o = &objects[nobjects];
    o->bias = lm->l_addr;
    o->fd = open(lm->l_name[0] ? lm->l_name : "/proc/self/exe", O_RDONLY | O_CLOEXEC);
    if (o->fd < 0)
        return NULL;
    ElfW(Ehdr) eh;
    if (read_at(o->fd, &eh, sizeof eh, 0) != 0
        || memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0
        || eh.e_shentsize != sizeof(ElfW(Shdr))
        || (find_symbols(o, &eh, SHT_SYMTAB) != 0       /* stripped: */
            && find_symbols(o, &eh, SHT_DYNSYM) != 0)) {  /* exports only */
        close(o->fd);
        return NULL;
    }
    nobjects++;
    return o;
}

/* The function containing address `at` (in the file's numbering): its
 * symbol, read a chunk at a time.  0, or -1 when none does. */
static int function_at(const struct object *o, uintptr_t at, ElfW(Sym) *best)
{
    static ElfW(Sym) chunk[128];
    int found = 0;
    for (size_t first = 0; first < o->nsyms; first += 128) {
        size_t n = o->nsyms - first < 128 ? o->nsyms - first : 128;
        if (read_at(o->fd, chunk, n * sizeof chunk[0],
                    o->symtab + (off_t)(first * sizeof chunk[0])) != 0)
            return -1;
        for (size_t i = 0; i < n; i++) {
            const ElfW(Sym) *s = &chunk[i];
            if ((s->st_info & 0xf) != STT_FUNC   /* ELF{32,64}_ST_TYPE */ || s->st_shndx == SHN_UNDEF
                || s->st_value > at || at - s->st_value >= (s->st_size ? s->st_size : 1))
                continue;
            *best = *s;
            found = 1;
        }
    }
    return found ? 0 : -1;
}

/* Append to buf: a bounded strcat that a signal handler may call. */
static void add(char *buf, size_t len, const char *s)
{
    size_t used = strlen(buf);
    while (*s && used + 1 < len)
        buf[used++] = *s++;
    buf[used] = '\0';
}

char *green__digits(uintptr_t n, unsigned base, char out[24])
{
    char rev[24];
    int k = 0;
    do {
        rev[k++] = "0123456789abcdef"[n % base];
        n /= base;
    } while (n > 0);
    for (int i = 0; i < k; i++)
        out[i] = rev[k - 1 - i];
    out[k] = '\0';
    return out;
}

static void add_hex(char *buf, size_t len, uintptr_t n)
{
    char digits[24];
    add(buf, len, "0x");
    add(buf, len, green__digits(n, 16, digits));
}

static const char *base_name(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash ? slash + 1 : path;
}

void green__symbolize(void *pc, int ret, char *buf, size_t len)
{
    /* A return address is the instruction after the call: the call itself
     * (what we want to name) is the byte before. */
    uintptr_t at = (uintptr_t)pc - (ret ? 1 : 0);
    Dl_info info;
    struct link_map *lm = NULL;
    struct object *o;
    ElfW(Sym) sym;
    char name[96];
    buf[0] = '\0';
    if (dladdr1((void *)at, &info, (void **)&lm, RTLD_DL_LINKMAP) == 0 || lm == NULL) {
        add_hex(buf, len, (uintptr_t)pc);
        add(buf, len, " (?)");
        return;
    }
    if ((o = object_of(lm)) != NULL && function_at(o, at - o->bias, &sym) == 0
        && pread(o->fd, name, sizeof name - 1, o->strtab + (off_t)sym.st_name) > 0) {
        name[sizeof name - 1] = '\0';
        add(buf, len, name);
        add(buf, len, "+");
        add_hex(buf, len, (uintptr_t)pc - (o->bias + sym.st_value));
    } else if (info.dli_sname) {        /* the nearest export: a guess */
        add(buf, len, info.dli_sname);
        add(buf, len, "?+");
        add_hex(buf, len, (uintptr_t)pc - (uintptr_t)info.dli_saddr);
    } else {
        add_hex(buf, len, (uintptr_t)pc);
    }
    add(buf, len, " (");
    add(buf, len, info.dli_fname && info.dli_fname[0] ? base_name(info.dli_fname) : "?");
    add(buf, len, ")");
}

void green__symbolize_done(void)
{
    for (int i = 0; i < nobjects; i++)
        close(objects[i].fd);
    nobjects = 0;
}
