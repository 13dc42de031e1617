/* Tests of exercise 11-http/chunked: chunked transfer encoding. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "harness.h"
#include "green.h"
#include "chunked.h"

#define SEE_CHUNKED KIT_LESSON("chapters/11-http/README.md", "Chunked responses")

/* ---- ex_chunk_header ----------------------------------------------------- */

static void header_is(size_t len, const char *want)
{
    char buf[32];
    memset(buf, 'X', sizeof buf);
    int n = ex_chunk_header(len, buf, sizeof buf);
    ck_assert_msg(n == (int)strlen(want) && strcmp(buf, want) == 0,
                  "ex_chunk_header(%zu) should write \"%.*s\\r\\n\" and return %d; "
                  "it returned %d and wrote \"%.*s\"; %s", len, (int)strlen(want) - 2, want,
                  (int)strlen(want), n, n > 0 && n < 30 ? n : 0, buf, SEE_CHUNKED);
}

START_TEST(test_header_hex)
{
    header_is(13, "d\r\n");
    header_is(255, "ff\r\n");
    header_is(0x10000, "10000\r\n");
    header_is(0, "0\r\n");
}
END_TEST

START_TEST(test_header_too_small)
{
    char buf[8];
    errno = 0;
    int n = ex_chunk_header(255, buf, 4);       /* "ff\r\n" needs 5 with the NUL */
    ck_assert_msg(n == -1 && errno == ENOSPC, "ex_chunk_header(255) into 4 bytes should fail "
                  "with ENOSPC (the line and its NUL need 5), returned %d (%s); %s",
                  n, strerror(errno), SEE_CHUNKED);
    n = ex_chunk_header(255, buf, 5);
    ck_assert_msg(n == 4, "ex_chunk_header(255) into 5 bytes fits exactly: expected 4, got %d", n);
}
END_TEST

/* ---- ex_chunked_encode ----------------------------------------------------- */

static void encodes(const green_chunk_t *chunks, size_t n, const char *want, const char *what)
{
    char out[256];
    ssize_t len = ex_chunked_encode(chunks, n, out, sizeof out);
    ck_assert_msg(len == (ssize_t)strlen(want) && memcmp(out, want, strlen(want)) == 0,
                  "%s: expected %zu bytes \"%s\", got %zd bytes \"%.*s\" (\\r\\n shown as line breaks); %s",
                  what, strlen(want), want, len, len > 0 ? (int)len : 0, out, SEE_CHUNKED);
}

START_TEST(test_encode_two_chunks)
{
    green_chunk_t c[] = { { "chunk 0\n", 8 }, { "chunk 1\n", 8 } };
    encodes(c, 2, "8\r\nchunk 0\n\r\n8\r\nchunk 1\n\r\n0\r\n\r\n", "two chunks");
}
END_TEST

START_TEST(test_encode_big_chunk_in_hex)
{
    static char big[300];
    memset(big, 'a', sizeof big);
    green_chunk_t c[] = { { big, sizeof big } };
    char out[400];
    ssize_t len = ex_chunked_encode(c, 1, out, sizeof out);
    ck_assert_msg(len == 5 + 300 + 2 + 5 && memcmp(out, "12c\r\n", 5) == 0,
                  "a 300-byte chunk's size line is \"12c\\r\\n\" (hex): got %zd bytes starting "
                  "\"%.5s\"; %s", len, out, SEE_CHUNKED);
    ck_assert_msg(memcmp(out + 305, "\r\n0\r\n\r\n", 7) == 0, "after the data: CRLF, then the last chunk");
}
END_TEST

START_TEST(test_encode_skips_empty_chunks)
{
    green_chunk_t c[] = { { "", 0 }, { "ab", 2 }, { "", 0 }, { "c", 1 } };
    encodes(c, 4, "2\r\nab\r\n1\r\nc\r\n0\r\n\r\n",
            "empty chunks skipped (a size of 0 would end the body)");
    encodes(NULL, 0, "0\r\n\r\n", "no chunks at all: just the last chunk");
}
END_TEST

START_TEST(test_encode_too_small)
{
    green_chunk_t c[] = { { "hello", 5 } };
    char out[64];
    for (size_t size = 0; size < 15; size++) {       /* 15 bytes are needed */
        errno = 0;
        ssize_t n = ex_chunked_encode(c, 1, out, size);
        ck_assert_msg(n == -1 && errno == ENOSPC, "encoding \"hello\" (15 bytes) into %zu bytes "
                      "should fail with ENOSPC, returned %zd (%s); %s", size, n, strerror(errno), SEE_CHUNKED);
    }
    ck_assert_int_eq(ex_chunked_encode(c, 1, out, 15), 15);
}
END_TEST

/* ---- ex_chunked_send -------------------------------------------------------- */

/* A generator of n chunks "chunk i\n" that sleeps `pause` s before each
 * one after the first (a slow source: a database, a long computation). */
struct slow_gen {
    green_gen_t gen;
    int i, n;
    int yielded;            /* chunks handed out so far */
    double pause;
    char line[16];
    green_chunk_t chunk;
};

static int slow_step(green_gen_t *g)
{
    struct slow_gen *s = (struct slow_gen *)g;
    GREEN_GEN_BEGIN(g);
    for (s->i = 0; s->i < s->n; s->i++) {
        if (s->i > 0 && s->pause > 0)
            green_sleep(s->pause);
        s->chunk.len = (size_t)snprintf(s->line, sizeof s->line, "chunk %d\n", s->i);
        s->chunk.data = s->line;
        s->yielded++;
        GREEN_GEN_YIELD(g, &s->chunk);
    }
    GREEN_GEN_END(g);
}

static struct slow_gen gen;
static int pair[2];
static int send_rc;
static green_body_t body;

static void *sender(void *arg)
{
    (void)arg;
    send_rc = ex_chunked_send(pair[0], &body);
    return NULL;
}

static void setup_pair(int n, double pause)
{
    ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, pair), 0);
    green_fd_nonblock(pair[0]);
    green_fd_nonblock(pair[1]);
    memset(&gen, 0, sizeof gen);
    gen.n = n;
    gen.pause = pause;
    green_gen_init(&gen.gen, slow_step);
    body = green_body_gen(&gen.gen, NULL, NULL);
    send_rc = -2;
}

/* Read from pair[1] until `want` bytes or `timeout`; once the sender has
 * returned, only what it left in the socket (a sender that failed at once
 * fails the test at once). */
static size_t read_upto(char *buf, size_t want, double timeout)
{
    size_t got = 0;
    double end = green_now() + timeout;
    green_sleep(0);                     /* the sender's first turn */
    while (got < want && green_now() < end) {
        double left = send_rc != -2 ? 0 : end - green_now();
        ssize_t n = green_recv(pair[1], buf + got, want - got, left);
        if (n <= 0)
            break;
        got += (size_t)n;
    }
    return got;
}

START_TEST(test_send_body)
{
    setup_pair(3, 0);
    green_t *g = green_spawn(sender, NULL);
    const char *want = "8\r\nchunk 0\n\r\n8\r\nchunk 1\n\r\n8\r\nchunk 2\n\r\n0\r\n\r\n";
    char buf[256] = "";
    size_t got = read_upto(buf, strlen(want), 2.0);
    ck_assert_int_eq(green_join(g, 2.0), 0);
    green_free(g);
    ck_assert_msg(send_rc == 0, "ex_chunked_send should return 0, returned %d", send_rc);
    ck_assert_msg(got == strlen(want) && memcmp(buf, want, got) == 0,
                  "a body of 3 chunks should go out as \"%s\", got \"%.*s\"; %s",
                  want, (int)got, buf, SEE_CHUNKED);
    close(pair[0]);
    close(pair[1]);
    green_hub_destroy();
}
END_TEST

START_TEST(test_send_streams)
{
    setup_pair(3, 0.3);                 /* 0.3 s between chunks */
    green_t *g = green_spawn(sender, NULL);
    char buf[64] = "";
    size_t got = read_upto(buf, 13, 2.0);   /* "8\r\nchunk 0\n\r\n" */
    int made = gen.yielded;
    /* Streaming means: the client has chunk 0 while the generator is still
     * preparing chunk 1 (its 0.3 s pause).  Counted, not timed. */
    ck_assert_msg(got == 13 && memcmp(buf, "8\r\nchunk 0\n\r\n", 13) == 0 && made == 1,
                  "the first chunk should reach the client at once, while the generator "
                  "prepares the next: the client had %zu bytes (\"%.*s\") when the generator had made "
                  "%d chunk(s) (expected 1); send each chunk before calling green_body_next again; %s",
                  got, (int)got, buf, made, SEE_CHUNKED);
    ck_assert_int_eq(green_join(g, 3.0), 0);
    green_free(g);
    close(pair[0]);
    close(pair[1]);
    green_hub_destroy();
}
END_TEST

START_TEST(test_send_error)
{
    setup_pair(2, 0);
    close(pair[1]);                     /* the client went away */
    errno = 0;
    int rc = ex_chunked_send(pair[0], &body);
    ck_assert_msg(rc == -1 && errno == EPIPE, "sending to a client that closed should return -1 "
                  "with errno EPIPE, returned %d (%s)", rc, strerror(errno));
    close(pair[0]);
    green_hub_destroy();
}
END_TEST

static Suite *chunked_suite(void)
{
    Suite *s = suite_create("11-http/chunked");
    TCase *tc = kit_tcase("chunked");
    tcase_add_test(tc, test_header_hex);
    tcase_add_test(tc, test_header_too_small);
    tcase_add_test(tc, test_encode_two_chunks);
    tcase_add_test(tc, test_encode_big_chunk_in_hex);
    tcase_add_test(tc, test_encode_skips_empty_chunks);
    tcase_add_test(tc, test_encode_too_small);
    tcase_add_test(tc, test_send_body);
    tcase_add_test(tc, test_send_streams);
    tcase_add_test(tc, test_send_error);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) { return kit_run_suite(chunked_suite()); }
