/*
 * gdb_script.c - chapter 3: libgreen carries its gdb extension
 * (green-gdb.py, `info greenlets`, `greenlet bt N`) inside itself, so that
 * gdb loads it for any program linked with the kit.
 *
 * gdb reads a section named .debug_gdb_scripts in every file it loads
 * (the program, libgreen.so): a list of entries, each a kind byte and a
 * NUL-terminated text.  Kind 4 is a Python script written out in full: its
 * first line names it, the rest is the script, which the assembler copies
 * from green-gdb.py as it stands (.incbin, at build time; the path is from
 * the top of the kit, where make runs).  The section is not loaded into
 * memory when the program runs: it costs the file a few KB, nothing else.
 * "MS" lets the linker merge identical entries, so the script is there
 * once however many copies are linked.
 *
 * gdb runs such a script only from a file in its auto-load safe-path:
 *     gdb -iex 'add-auto-load-safe-path /path/to/kit/build' PROGRAM
 *
 * A static library gives the linker only the objects a program needs,
 * and no program calls anything here: hub.c refers to the symbol below,
 * so every program with a hub brings this object, section and all.
 */

__asm__(".pushsection .debug_gdb_scripts, \"MS\", %progbits, 1\n"
        ".byte 4\n"                        /* a Python script, inline */
        ".ascii \"green-gdb.py\\n\"\n"     /* its name, for gdb's messages */
        ".incbin \"lib/03-hub/green-gdb.py\"\n"
        ".byte 0\n"
        ".popsection\n");

/* What hub.c refers to (internal.h). */
const char green__gdb_script = 4;
