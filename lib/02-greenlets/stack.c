/* stack.c - chapter 2: greenlet stacks with a guard page.  See ctx.h. */
#include "ctx.h"

#include <errno.h>
#include <stdint.h>
#include <sys/mman.h>
#include <unistd.h>

/* Linux names; elsewhere the plain mapping does the same job. */
#ifndef MAP_STACK
#define MAP_STACK 0
#endif
#ifndef MAP_NORESERVE
#define MAP_NORESERVE 0
#endif

#if defined(__has_include)
#if __has_include(<valgrind/valgrind.h>)
#include <valgrind/valgrind.h>
#define GREEN_HAVE_VALGRIND 1
#endif
#endif

static size_t page_size(void)
{
    static size_t size;
    if (size == 0)
        size = (size_t)sysconf(_SC_PAGESIZE);
    return size;
}

int green_stack_alloc(green_stack_t *s, size_t size)
{
    size_t page = page_size();
    if (size == 0)
        size = GREEN_STACK_DEFAULT;
    if (size > SIZE_MAX / 2) {          /* rounding up would wrap around */
        errno = ENOMEM;
        return -1;
    }
    size = (size + page - 1) / page * page;

    /* Reserve address space only: MAP_NORESERVE and the kernel's lazy
     * allocation mean a page costs memory only once it is touched. */
    char *base = mmap(NULL, size + page, PROT_READ | PROT_WRITE,
                      MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_STACK,
                      -1, 0);
    if (base == MAP_FAILED) {
        errno = ENOMEM;     /* whatever the kernel (or Valgrind) said */
        return -1;
    }
    /* The lowest page becomes the guard.  This splits the mapping in two,
     * which is why each stack counts twice against vm.max_map_count. */
    if (mprotect(base, page, PROT_NONE) != 0) {
        int saved = errno;
        munmap(base, size + page);
        errno = saved;
        return -1;
    }
    s->guard = base;
    s->guard_size = page;
    s->lo = base + page;
    s->size = size;
#ifdef GREEN_HAVE_VALGRIND
    /* Without this Valgrind takes every switch for a wild stack pointer
     * change and reports accesses to the new stack as invalid. */
    s->valgrind_id = VALGRIND_STACK_REGISTER(s->lo, s->lo + size);
#else
    s->valgrind_id = 0;
#endif
    return 0;
}

void green_stack_free(green_stack_t *s)
{
    if (s->guard == NULL)
        return;
#ifdef GREEN_HAVE_VALGRIND
    VALGRIND_STACK_DEREGISTER(s->valgrind_id);
#endif
    munmap(s->guard, s->guard_size + s->size);
    s->guard = s->lo = NULL;
    s->size = s->guard_size = 0;
}

int green_stack_overflowed(const green_stack_t *s, const void *addr)
{
    if (s->guard == NULL)
        return 0;
    /* A function with a large frame can step over the guard page entirely;
     * count the page below it too.  (A frame larger than that lands in some
     * other mapping: compilers' -fstack-clash-protection exists for this.) */
    uintptr_t a = (uintptr_t)addr;
    uintptr_t lo = (uintptr_t)s->guard - s->guard_size;
    uintptr_t hi = (uintptr_t)s->lo;
    return a >= lo && a < hi;
}
