/* Tests of exercise 09-wsgi/middleware: a meter that wraps any app, adds
 * a header, counts requests and the body bytes the server takes, and
 * keeps a generator body streaming. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "harness.h"
#include "green.h"
#include "middleware.h"
#include "../../../chapters/09-wsgi/demo_app.h"

#define LESSON "chapters/09-wsgi/README.md"

static ex_meter meter;

static void setup(void)
{
    ex_meter_init(&meter, &demo_app);
}

static void call(green_app_t *app, green_wsgi_result_t *r, const char *method,
                 const char *uri, const char *body)
{
    int rc = green_wsgi_request(app, method, uri, NULL, body, r);
    ck_assert_msg(rc == 0, "%s %s through the meter: green_wsgi_request failed (%s)%s", method, uri,
                  strerror(errno), errno == EPROTO ? ": nobody called green_start_response" : "");
}

/* ---- an inner app whose generator reports what it sees ------------------- */

/* Yields "ab", NULL, "cde", "", "f": three real chunks, six bytes. */
static struct probe {
    green_gen_t gen;
    green_chunk_t chunk;
    int steps;                /* how often the step function ran */
    int closed;               /* how often its close ran */
} probe;

static int probe_step(green_gen_t *g)
{
    struct probe *p = (struct probe *)g;
    p->steps++;
    GREEN_GEN_BEGIN(g);
    p->chunk = (green_chunk_t){ "ab", 2 };
    GREEN_GEN_YIELD(g, &p->chunk);
    GREEN_GEN_YIELD(g, NULL);
    p->chunk = (green_chunk_t){ "cde", 3 };
    GREEN_GEN_YIELD(g, &p->chunk);
    p->chunk = (green_chunk_t){ "", 0 };
    GREEN_GEN_YIELD(g, &p->chunk);
    p->chunk = (green_chunk_t){ "f", 1 };
    GREEN_GEN_YIELD(g, &p->chunk);
    GREEN_GEN_END(g);
}

static void probe_close(green_body_t *b)
{
    struct probe *p = b->data;
    p->closed++;
}

static green_body_t probe_call(green_app_t *self, green_environ_t *env,
                               green_response_t *resp)
{
    green_header_t h[] = { { "Content-Type", "text/x-probe" }, { "X-Inner", "yes" } };
    (void)self, (void)env;
    memset(&probe, 0, sizeof probe);
    green_gen_init(&probe.gen, probe_step);
    green_start_response(resp, "201 Created", h, 2);
    return green_body_gen(&probe.gen, probe_close, &probe);
}

static green_app_t probe_app = { probe_call };

/* Call the meter around probe_app by hand, as a server does, so that the
 * test decides when each chunk is taken. */
static green_body_t start_probe(green_response_t *resp)
{
    static green_environ_t env = { .method = "GET", .path = "/", .query = "",
                                   .uri = "/", .protocol = "HTTP/1.1",
                                   .content_length = -1 };
    ex_meter_init(&meter, &probe_app);
    green_response_init(resp);
    return green_app_call(&meter.app, &env, resp);
}

/* ---- the checks ----------------------------------------------------------------- */

START_TEST(test_passes_through)
{
    green_wsgi_result_t r;
    call(&meter.app, &r, "GET", "/", NULL);
    ck_assert_msg(r.resp.code == 200 && strcmp(r.body, "Hello, World!") == 0,
                  "GET / through the meter: expected the demo app's 200 \"Hello, World!\", got \"%s\" \"%s\"",
                  r.resp.status, r.body);
    const char *type = green_response_header(&r.resp, "Content-Type");
    ck_assert_msg(type && strcmp(type, "text/plain") == 0,
                  "the meter must keep the inner app's headers: Content-Type should be text/plain, got %s; "
                  KIT_LESSON(LESSON, "Middleware"),
                  type ? type : "none");
    green_wsgi_result_free(&r);
    call(&meter.app, &r, "GET", "/nope", NULL);
    ck_assert_msg(r.resp.code == 404, "the meter must keep the inner app's status: expected 404, got \"%s\"", r.resp.status);
    green_wsgi_result_free(&r);
    call(&meter.app, &r, "POST", "/echo", "through the meter");
    ck_assert_msg(strcmp(r.body, "through the meter") == 0,
                  "POST /echo: the inner app must get the request (environ and input), echoed \"%s\"", r.body);
    green_wsgi_result_free(&r);
    green_hub_destroy();
}
END_TEST

START_TEST(test_request_count_header)
{
    for (int i = 1; i <= 3; i++) {
        green_wsgi_result_t r;
        char want[8];
        snprintf(want, sizeof want, "%d", i);
        call(&meter.app, &r, "GET", i == 2 ? "/stream?n=2" : "/", NULL);
        const char *got = green_response_header(&r.resp, "X-Request-Count");
        ck_assert_msg(got && strcmp(got, want) == 0,
                      "request #%d: expected the header X-Request-Count: %s, got %s; "
                      KIT_LESSON(LESSON, "Middleware"),
                      i, want, got ? got : "no such header");
        ck_assert_msg(green_response_header(&r.resp, "Content-Type") != NULL,
                      "adding X-Request-Count must keep the other headers (Content-Type is gone)");
        green_wsgi_result_free(&r);
    }
    ck_assert_msg(meter.requests == 3, "after 3 requests, meter.requests should be 3, it is %ld", meter.requests);
    green_hub_destroy();
}
END_TEST

START_TEST(test_list_body_stays_list)
{
    green_wsgi_result_t r;
    call(&meter.app, &r, "GET", "/", NULL);
    ck_assert_msg(r.streamed == 0,
                  "a list body must be passed on as a list (the server needs its Content-Length), "
                  "but the meter turned it into a generator; " KIT_LESSON(LESSON, "Wrapping a body"));
    ck_assert_msg(meter.bytes == 13, "after \"Hello, World!\", meter.bytes should be 13, it is %lld", meter.bytes);
    green_wsgi_result_free(&r);
    call(&meter.app, &r, "POST", "/echo", "12345");
    ck_assert_msg(meter.bytes == 18, "after 13 + 5 bytes, meter.bytes should be 18, it is %lld", meter.bytes);
    green_wsgi_result_free(&r);
    green_hub_destroy();
}
END_TEST

START_TEST(test_generator_still_streams)
{
    green_wsgi_result_t r;
    call(&meter.app, &r, "GET", "/stream?n=5", NULL);
    ck_assert_msg(r.streamed == 1,
                  "a generator body must stay a generator through the meter (else it cannot stream); "
                  KIT_LESSON(LESSON, "Wrapping a body"));
    ck_assert_msg(r.chunks == 5, "/stream?n=5 through the meter: expected 5 chunks, got %zu (buffering joins them); "
                  KIT_LESSON(LESSON, "Wrapping a body"),
                  r.chunks);
    ck_assert_str_eq(r.body, "chunk 0\nchunk 1\nchunk 2\nchunk 3\nchunk 4\n");
    ck_assert_msg(meter.bytes == (long long)r.len, "meter.bytes should be %zu (the bytes of the 5 chunks), it is %lld",
                  r.len, meter.bytes);
    green_wsgi_result_free(&r);
    green_hub_destroy();
}
END_TEST

START_TEST(test_counts_as_the_server_takes)
{
    green_response_t resp;
    green_body_t body = start_probe(&resp);
    ck_assert_msg(!green_body_is_list(&body), "the probe's generator body came back as a list body");
    ck_assert_msg(probe.steps == 0,
                  "the meter ran the inner generator %d times before the server asked for anything: "
                  "never walk the body ahead of the server; "
                  KIT_LESSON(LESSON, "Wrapping a body"), probe.steps);
    ck_assert_msg(meter.bytes == 0, "nothing taken yet, but meter.bytes is %lld", meter.bytes);
    green_chunk_t c;
    ck_assert_int_eq(green_body_next(&body, &c), 1);
    ck_assert_msg(c.len == 2 && memcmp(c.data, "ab", 2) == 0, "the first chunk should be \"ab\"");
    ck_assert_msg(probe.steps == 1, "one chunk taken: the inner generator should have run once, it ran %d times", probe.steps);
    ck_assert_msg(meter.bytes == 2, "one chunk of 2 bytes taken: meter.bytes should be 2, it is %lld", meter.bytes);
    ck_assert_int_eq(green_body_next(&body, &c), 1);
    ck_assert_msg(c.len == 3 && memcmp(c.data, "cde", 3) == 0, "the second chunk should be \"cde\" (NULL chunks are skipped)");
    ck_assert_msg(meter.bytes == 5, "2 + 3 bytes taken: meter.bytes should be 5, it is %lld", meter.bytes);
    green_body_close(&body);
    green_hub_destroy();
}
END_TEST

START_TEST(test_close_half_way)
{
    green_response_t resp;
    green_body_t body = start_probe(&resp);
    green_chunk_t c;
    ck_assert_int_eq(green_body_next(&body, &c), 1);
    green_body_close(&body);                 /* the client went away */
    ck_assert_msg(probe.closed == 1,
                  "closing the meter's body must close the inner body once, it was closed %d times; "
                  KIT_LESSON(LESSON, "Wrapping a body"),
                  probe.closed);
    ck_assert_msg(meter.bytes == 2, "a client that left after 2 bytes: meter.bytes should be 2, it is %lld", meter.bytes);
    green_body_close(&body);
    ck_assert_msg(probe.closed == 1, "a second close must not close the inner body again (closed %d times)", probe.closed);

    body = start_probe(&resp);               /* closed before any chunk */
    green_body_close(&body);
    ck_assert_msg(probe.closed == 1 && probe.steps == 0,
                  "a body closed before the first chunk: the inner body is closed once (got %d) and never run (ran %d times)",
                  probe.closed, probe.steps);
    green_hub_destroy();
}
END_TEST

START_TEST(test_whole_probe)
{
    ex_meter_init(&meter, &probe_app);
    green_wsgi_result_t r;
    call(&meter.app, &r, "GET", "/", NULL);
    ck_assert_msg(r.resp.code == 201, "expected the inner app's \"201 Created\", got \"%s\"", r.resp.status);
    ck_assert_str_eq(r.body, "abcdef");
    ck_assert_msg(r.chunks == 3, "the probe yields 3 non-empty chunks, the client got %zu", r.chunks);
    ck_assert_int_eq(r.streamed, 1);
    ck_assert_msg(meter.bytes == 6, "meter.bytes should be 6, it is %lld", meter.bytes);
    ck_assert_msg(probe.closed == 1, "the inner body must be closed exactly once, it was closed %d times", probe.closed);
    const char *inner = green_response_header(&r.resp, "X-Inner");
    ck_assert_msg(inner && strcmp(inner, "yes") == 0, "the inner app's header X-Inner is gone");
    green_wsgi_result_free(&r);
    green_hub_destroy();
}
END_TEST

START_TEST(test_two_meters)
{
    ex_meter other;
    ex_meter_init(&other, &demo_app);
    green_wsgi_result_t r;
    call(&meter.app, &r, "GET", "/", NULL);
    green_wsgi_result_free(&r);
    call(&meter.app, &r, "GET", "/", NULL);
    green_wsgi_result_free(&r);
    call(&other.app, &r, "GET", "/stream?n=1", NULL);
    const char *got = green_response_header(&r.resp, "X-Request-Count");
    ck_assert_msg(got && strcmp(got, "1") == 0,
                  "each meter counts its own requests: the other meter's first request should say 1, got %s "
                  "(keep the counters in the struct, not in statics)", got ? got : "nothing");
    green_wsgi_result_free(&r);
    ck_assert_msg(meter.requests == 2 && other.requests == 1 && meter.bytes == 26 && other.bytes == 8,
                  "two meters: expected 2 requests / 26 bytes and 1 request / 8 bytes, got %ld / %lld and %ld / %lld",
                  meter.requests, meter.bytes, other.requests, other.bytes);
    green_hub_destroy();
}
END_TEST

static Suite *middleware_suite(void)
{
    Suite *s = suite_create("09-wsgi/middleware");
    TCase *tc = kit_tcase("middleware");
    tcase_add_checked_fixture(tc, setup, NULL);
    tcase_add_test(tc, test_passes_through);
    tcase_add_test(tc, test_request_count_header);
    tcase_add_test(tc, test_list_body_stays_list);
    tcase_add_test(tc, test_generator_still_streams);
    tcase_add_test(tc, test_counts_as_the_server_takes);
    tcase_add_test(tc, test_close_half_way);
    tcase_add_test(tc, test_whole_probe);
    tcase_add_test(tc, test_two_meters);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) { return kit_run_suite(middleware_suite()); }
