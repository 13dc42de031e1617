# green-gdb.py - gdb that knows greenlets (chapter 3, 'Debugging greenlets
# with gdb').
#
#   info greenlets        every greenlet of every thread's hub, like
#                         green_dump(): id, name, state, what it waits for
#   greenlet bt N [ARGS]  the backtrace of greenlet N (ARGS go to `bt`:
#                         full, -5, ...)
#   greenlet frame N [K]  frame K (default 0) of greenlet N, and its locals
#
# Load it with `source lib/03-hub/green-gdb.py`, or let gdb load it from
# the program itself: libgreen carries it in its .debug_gdb_scripts
# section (lib/03-hub/gdb_script.c), which gdb reads if the program's
# folder is in its auto-load safe-path.
#
# To gdb, a thread has one stack: the one its registers point into.  A
# suspended greenlet's stack is elsewhere, and all that leads to it is the
# context green_ctx_switch saved (lib/02-greenlets/ctx.h).  So `greenlet bt`
# does what the CPU would do to resume it: load its saved registers into
# the thread (pc, sp, frame pointer and the callee-saved ones), let gdb
# walk that stack as it walks any other, and put the real registers back,
# whatever happens.  Nothing in the program runs meanwhile.

import struct
import time

import gdb

EV_READ, EV_WRITE = 0x02, 0x04      # libevent's event flags


# ---- Finding the greenlets ------------------------------------------------

def _pointer(expr):
    """The value of a pointer variable of the selected thread, or None."""
    try:
        v = gdb.parse_and_eval(expr)
        return v if int(v) != 0 else None
    except gdb.error:
        return None     # not loaded yet, or no debug information


def _hubs():
    """[(gdb thread, its hub, its running greenlet)], for every thread that
    has a hub.  `hub` (hub.c) and `current` (greenlet.c) are per thread
    (_Thread_local): each thread is selected in turn to read them."""
    thread = gdb.selected_thread()
    if thread is None:
        raise gdb.GdbError("The program is not being run (run it, or attach "
                           "to it: gdb -p PID).")
    level = gdb.selected_frame().level()
    found = []
    try:
        for t in sorted(gdb.selected_inferior().threads(), key=lambda t: t.num):
            t.switch()
            h = _pointer("'hub.c'::hub")
            if h is not None:
                found.append((t, h.dereference(), _pointer("'greenlet.c'::current")))
    finally:
        thread.switch()
        gdb.execute("frame %d" % level, to_string=True)
    return found


def _greenlets(hub):
    """The hub's greenlets: its thread's main one first, then the hub
    itself and every one on the hub's list (sched.all_next) by id."""
    main, found = hub["g"]["main"], {}
    g = hub["all"]
    while int(g) != 0:
        found[int(g)] = g
        g = g["sched"]["all_next"]
    found[int(hub["g"])] = hub["g"]
    found.pop(int(main), None)
    return [main] + sorted(found.values(), key=lambda g: int(g["id"]))


def _find(id_):
    """(thread, greenlet, running?) for greenlet id_, the selected thread's
    first (every thread's main greenlet has id 0)."""
    hubs = _hubs()
    me = gdb.selected_thread()
    for t, hub, current in sorted(hubs, key=lambda x: x[0] != me):
        for g in _greenlets(hub):
            if int(g["id"]) == id_:
                return t, g, current is not None and int(g) == int(current)
    raise gdb.GdbError("no greenlet %d: `info greenlets` lists them" % id_)


# ---- Saying what each one does ---------------------------------------------

def _since(when, now):
    return "%.1fs" % max(0.0, now - when)


def _state(g, hub, current, now):
    """What green_dump() says of g, and a little more (for how long)."""
    s = g["sched"]
    if g["dead"]:
        return "dead"
    if current is not None and int(g) == int(current):
        return "running"
    if int(g) == int(hub["g"]):
        return "in its loop, switched to the running greenlet"
    if s["queued"]:
        return "ready for " + _since(float(s["since"]), now)
    if not g["started"]:
        return "not started"
    call = s["waiting_on"]
    if int(call) == 0:
        return "suspended (switched away by hand)"
    words = ["waiting in " + call.string()]
    if int(s["wait_fd"]) >= 0:
        ev = int(s["wait_events"])
        way = "read" if ev & EV_READ else "write" if ev & EV_WRITE else "?"
        words.append("on fd %d (%s)" % (int(s["wait_fd"]), way))
    if int(s["waiting_for"]) != 0:          # its object: the joiners' list
        words.append("joining '%s'" % s["waiting_for"]["name"].string())
    elif int(s["wait_obj"]) != 0:           # the waiter list in an Event...
        words.append("on object 0x%x" % int(s["wait_obj"]))
    until = float(s["wait_until"])
    if until >= 0:                          # GREEN_FOREVER is negative
        words.append("until %+.1fs" % (until - now))
    words.append("for " + _since(float(s["since"]), now))
    return ", ".join(words)


def _coarse_now():
    # The program stamps with CLOCK_MONOTONIC_COARSE (green__coarse_now):
    # one clock for the whole machine, so gdb's reading of it is the
    # program's "now" (for a live process; a core file's times are off).
    return time.clock_gettime(getattr(time, "CLOCK_MONOTONIC_COARSE", 6))


class InfoGreenlets(gdb.Command):
    """List every greenlet of every thread's hub: id, name, state.
Like green_dump(): running, ready, not started, dead, or waiting in which
call, on which descriptor or object, joining whom, until when, and for how
long.  `greenlet bt ID` shows where one is."""

    def __init__(self):
        super().__init__("info greenlets", gdb.COMMAND_STATUS)

    def invoke(self, arg, from_tty):
        hubs = _hubs()
        if not hubs:
            print("No hub yet: no thread has spawned or waited (or libgreen "
                  "has no debug information).")
            return
        now = _coarse_now()
        for t, hub, current in hubs:
            print("Thread %d (%s):" % (t.num, t.name or "?"))
            print("  %4s  %-20s %s" % ("Id", "Name", "State"))
            for g in _greenlets(hub):
                print("  %4d  %-20s %s" % (int(g["id"]), g["name"].string(),
                                         _state(g, hub, current, now)))


# ---- Walking a suspended greenlet's stack ---------------------------------

# Where a saved context keeps each register, per back end.  Assembly
# (ctx_x86_64.S, ctx_aarch64.S): on the greenlet's stack, at offsets from
# the saved sp; the return address is where it continues.  ucontext:
# glibc's mcontext_t, indexes into gregs (x86-64) or regs (AArch64).
X86_64_FRAME = {"r15": 8, "r14": 16, "r13": 24, "r12": 32, "rbx": 40,
                "rbp": 48, "pc": 56}
X86_64_FRAME_SIZE = 64
AARCH64_FRAME = dict([("x%d" % r, 8 * (r - 19)) for r in range(19, 31)])
AARCH64_FRAME["pc"] = 88        # x30, the link register
AARCH64_FRAME_SIZE = 176
X86_64_GREGS = {"r12": 4, "r13": 5, "r14": 6, "r15": 7, "rbp": 10,
                "rbx": 11, "sp": 15, "pc": 16}


def _word(addr):
    mem = gdb.selected_inferior().read_memory(addr, 8)
    return struct.unpack("<Q", bytes(mem))[0]


def _saved_registers(ctx):
    """{register: value} that resume the context ctx (a green_ctx_t), for
    whichever back end the program was built with: its fields say which."""
    arch = gdb.selected_inferior().architecture().name()
    fields = [f.name for f in ctx.type.strip_typedefs().fields()]
    if "sp" in fields:                      # the assembly back ends
        sp = int(ctx["sp"])
        frame, size = ((X86_64_FRAME, X86_64_FRAME_SIZE) if "x86-64" in arch
                       else (AARCH64_FRAME, AARCH64_FRAME_SIZE))
        regs = {r: _word(sp + off) for r, off in frame.items()}
        regs["sp"] = sp + size              # as after its return
        return regs
    mc = ctx["uc"]["uc_mcontext"]           # ucontext (make CTX=ucontext)
    if "x86-64" in arch:                    # gregs are signed: unsign them
        return {r: int(mc["gregs"][i]) & 0xffffffffffffffff
                for r, i in X86_64_GREGS.items()}
    # AArch64: glibc's swapcontext saves as pc a stub of its own that
    # returns through x1, where it saved the caller's return address.
    regs = {"x%d" % r: int(mc["regs"][r]) for r in range(19, 30)}
    regs.update(sp=int(mc["sp"]), pc=int(mc["regs"][1]), x30=int(mc["regs"][1]))
    return regs


class _InGreenlet:
    """`with _InGreenlet(g):` the selected thread's registers are g's saved
    ones inside the block, and its own again after it (even on an error or
    Ctrl-C): the program must be able to continue as if nothing happened."""

    def __init__(self, g):
        self.regs = _saved_registers(g["ctx"])

    def __enter__(self):
        self.level = gdb.selected_frame().level()
        top = gdb.newest_frame()
        top.select()                         # set $reg writes the thread's
        self.saved = {r: int(top.read_register(r)) for r in self.regs}
        try:
            _load(self.regs)
        except BaseException:               # half loaded: put all back
            self.__exit__()
            raise

    def __exit__(self, *exc):
        gdb.newest_frame().select()
        _load(self.saved)
        gdb.execute("frame %d" % self.level, to_string=True)
        return False


def _load(regs):
    """Write regs into the selected thread (its newest frame selected)."""
    for r, v in regs.items():
        gdb.execute("set $%s = %d" % (r, v), to_string=True)


def _run_in(id_, *commands):
    """Run gdb's commands as if greenlet id_ were the one running."""
    t, g, running = _find(id_)
    if g["dead"]:
        raise gdb.GdbError("greenlet %d is dead: it has no stack any more" % id_)
    if not g["started"]:
        raise gdb.GdbError("greenlet %d has not started: no frames yet" % id_)
    if running:                             # its stack is its thread's
        me = gdb.selected_thread()
        t.switch()
        try:
            for c in commands:
                gdb.execute(c)
        finally:
            me.switch()
        return
    with _InGreenlet(g):
        for c in commands:
            gdb.execute(c)


def _parse(arg, usage, numbers=1):
    """The first `numbers` words of arg as integers, and the rest."""
    words = gdb.string_to_argv(arg)
    try:
        return [int(w) for w in words[:numbers]], words[numbers:]
    except ValueError:
        raise gdb.GdbError("usage: " + usage)


class Greenlet(gdb.Command):
    """Look inside a greenlet: `greenlet bt ID`, `greenlet frame ID [K]`.
IDs are those of `info greenlets`."""

    def __init__(self):
        super().__init__("greenlet", gdb.COMMAND_STACK, prefix=True)


class GreenletBt(gdb.Command):
    """greenlet bt ID [BT-ARGS]: the backtrace of greenlet ID.
A suspended greenlet's stack, walked from the registers it saved when it
switched away; for the running one, plain `bt`.  BT-ARGS go to bt (full, 5)."""

    def __init__(self):
        super().__init__("greenlet bt", gdb.COMMAND_STACK)

    def invoke(self, arg, from_tty):
        usage = "greenlet bt ID [full] [COUNT]"
        ids, rest = _parse(arg, usage)
        if not ids:
            raise gdb.GdbError("usage: " + usage)
        _run_in(ids[0], " ".join(["bt"] + rest))


class GreenletFrame(gdb.Command):
    """greenlet frame ID [K]: frame K (default 0) of greenlet ID, and its
locals.  gdb stays where it was: the greenlet's registers are only
borrowed while it prints."""

    def __init__(self):
        super().__init__("greenlet frame", gdb.COMMAND_STACK)

    def invoke(self, arg, from_tty):
        usage = "greenlet frame ID [K]"
        nums, rest = _parse(arg, usage, numbers=2)
        if not nums or rest:
            raise gdb.GdbError("usage: " + usage)
        k = nums[1] if len(nums) > 1 else 0
        _run_in(nums[0], "frame %d" % k, "info locals")


InfoGreenlets()
Greenlet()
GreenletBt()
GreenletFrame()
