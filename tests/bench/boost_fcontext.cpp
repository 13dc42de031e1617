/*
 * boost_fcontext.cpp - the peer: boost.context's own switch, jump_fcontext(),
 * in the same ping-pong as the kit's (switch.c), callable from C.
 *
 * boost.context (libboost-context-dev, `make deps-bench`) is what C++
 * coroutine and fiber libraries switch with.  Its x86-64 jump_fcontext saves
 * MXCSR and the x87 control word and loads them back on every switch, flags
 * and all (objdump -d libboost_context.so shows it): "always reloaded".
 * bench.mk builds this file only when boost's header compiles, and switch.c
 * is then compiled with -DBENCH_BOOST.
 */
#include <boost/context/detail/fcontext.hpp>

#include <sys/mman.h>

namespace ctx = boost::context::detail;

static const std::size_t stack_size = 64 * 1024;
static ctx::fcontext_t partner; /* where the partner is parked */

/* Each jump hands over the context it left: the partner answers to that. */
static void partner_main(ctx::transfer_t from)
{
    for (;;)
        from = ctx::jump_fcontext(from.fctx, nullptr);
}

/* 0, or -1 when no stack could be mapped. */
extern "C" int bench_boost_start(void)
{
    void *stack = mmap(nullptr, stack_size, PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (stack == MAP_FAILED)
        return -1;
    /* make_fcontext takes the top of the stack: it grows down */
    partner = ctx::make_fcontext(static_cast<char *>(stack) + stack_size,
                                 stack_size, partner_main);
    return 0;
}

/* n round trips: two switches each, as in switch.c's own loops. */
extern "C" void bench_boost_round_trips(long n)
{
    for (long i = 0; i < n; i++)
        partner = ctx::jump_fcontext(partner, nullptr).fctx;
}
