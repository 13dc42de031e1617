/* Tests of exercise 09-wsgi/routes: an application with routes, called
 * through the test client as a server would. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "harness.h"
#include "green.h"
#include "routes.h"

#define LESSON "chapters/09-wsgi/README.md"
#define ROUTING KIT_LESSON(LESSON, "Routing: a 404 and a 405")
#define QUERY KIT_LESSON(LESSON, "Query parameters")

static ex_routes app;

/* One request: the result in *r (free it), 0 or -1. */
static void call(green_wsgi_result_t *r, const char *method, const char *uri)
{
    int rc = green_wsgi_request(&app.app, method, uri, NULL, NULL, r);
    ck_assert_msg(rc == 0, "%s %s: green_wsgi_request failed (%s)%s", method, uri, strerror(errno),
                  errno == EPROTO ? ": your app never called green_start_response" : "");
}

/* `method uri` answers `code` with body `body` (NULL: any body); `see` is
 * where a failure sends the student, a KIT_LESSON. */
static void expect(const char *method, const char *uri, int code, const char *body,
                   const char *see)
{
    green_wsgi_result_t r;
    call(&r, method, uri);
    ck_assert_msg(r.resp.code == code, "%s %s: expected status %d, got \"%s\"; %s",
                  method, uri, code, r.resp.status, see);
    if (body)
        ck_assert_msg(strcmp(r.body, body) == 0, "%s %s: expected the body \"%s\", got \"%s\"; %s",
                      method, uri, body, r.body, see);
    const char *type = green_response_header(&r.resp, "Content-Type");
    ck_assert_msg(type && strcmp(type, "text/plain") == 0,
                  "%s %s: every answer has Content-Type: text/plain, got %s; "
                  KIT_LESSON(LESSON, "start_response"),
                  method, uri, type ? type : "none");
    green_wsgi_result_free(&r);
}

static void setup(void)
{
    ex_routes_init(&app);
}

START_TEST(test_root)
{
    expect("GET", "/", 200, "Welcome!\n", ROUTING);
    expect("HEAD", "/", 200, NULL, ROUTING);
    green_hub_destroy();
}
END_TEST

START_TEST(test_not_found)
{
    static const char *const paths[] = { "/nope", "/hello/x", "/Count", "/count/", "/index.html" };
    for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++)
        expect("GET", paths[i], 404, "Not Found\n", ROUTING);
    expect("POST", "/missing", 404, "Not Found\n", ROUTING);
    green_hub_destroy();
}
END_TEST

START_TEST(test_hello_name)
{
    expect("GET", "/hello?name=Ada", 200, "Hello, Ada!\n", QUERY);
    expect("GET", "/hello?lang=en&name=Bob&x=1", 200, "Hello, Bob!\n", QUERY);
    expect("HEAD", "/hello?name=Ada", 200, NULL, QUERY);
    green_hub_destroy();
}
END_TEST

START_TEST(test_hello_decoded)
{
    expect("GET", "/hello?name=Grace%20Hopper", 200, "Hello, Grace Hopper!\n", QUERY);
    expect("GET", "/hello?name=Grace+Hopper", 200, "Hello, Grace Hopper!\n", QUERY);
    expect("GET", "/hello?name=%C3%89mile", 200, "Hello, \xc3\x89mile!\n", QUERY);
    green_hub_destroy();
}
END_TEST

START_TEST(test_hello_default)
{
    expect("GET", "/hello", 200, "Hello, World!\n", QUERY);
    expect("GET", "/hello?name=", 200, "Hello, World!\n", QUERY);
    expect("GET", "/hello?names=Al", 200, "Hello, World!\n", QUERY);
    green_hub_destroy();
}
END_TEST

START_TEST(test_hello_bad)
{
    char uri[256], want[160];
    char name[EX_MAX_NAME + 2];
    memset(name, 'a', sizeof name);
    name[EX_MAX_NAME] = '\0';                       /* the longest name allowed */
    snprintf(uri, sizeof uri, "/hello?name=%s", name);
    snprintf(want, sizeof want, "Hello, %s!\n", name);
    expect("GET", uri, 200, want, QUERY);
    name[EX_MAX_NAME] = 'a';
    name[EX_MAX_NAME + 1] = '\0';                   /* one byte too many */
    snprintf(uri, sizeof uri, "/hello?name=%s", name);
    expect("GET", uri, 400, NULL, QUERY);
    expect("GET", "/hello?name=%zz", 400, NULL, QUERY);
    expect("GET", "/hello?name=50%", 400, NULL, QUERY);
    green_hub_destroy();
}
END_TEST

START_TEST(test_count)
{
    expect("GET", "/count", 200, "0\n", ROUTING);
    expect("POST", "/count", 200, "1\n", ROUTING);
    expect("POST", "/count", 200, "2\n", ROUTING);
    expect("GET", "/count", 200, "2\n", ROUTING);
    ck_assert_msg(app.count == 2, "after two POST /count, app.count should be 2, it is %ld", app.count);
    green_hub_destroy();
}
END_TEST

START_TEST(test_count_per_app)
{
    ex_routes other;
    ex_routes_init(&other);
    expect("POST", "/count", 200, "1\n", ROUTING);
    green_wsgi_result_t r;
    int rc = green_wsgi_request(&other.app, "GET", "/count", NULL, NULL, &r);
    ck_assert_int_eq(rc, 0);
    ck_assert_msg(strcmp(r.body, "0\n") == 0,
                  "each ex_routes has its own counter: a fresh one says \"0\\n\", got \"%s\"; keep the "
                  "count in the struct, not in a static; " KIT_LESSON(LESSON, "An application is a struct"),
                  r.body);
    green_wsgi_result_free(&r);
    green_hub_destroy();
}
END_TEST

/* `method uri` answers 405 with Allow: allow. */
static void expect_405(const char *method, const char *uri, const char *allow)
{
    green_wsgi_result_t r;
    call(&r, method, uri);
    ck_assert_msg(r.resp.code == 405, "%s %s: the path exists but not for %s: expected 405, got \"%s\"; "
                  KIT_LESSON(LESSON, "Routing: a 404 and a 405"),
                  method, uri, method, r.resp.status);
    ck_assert_msg(strcmp(r.resp.status, "405 Method Not Allowed") == 0, "expected the status \"405 Method Not Allowed\", got \"%s\"", r.resp.status);
    const char *a = green_response_header(&r.resp, "Allow");
    ck_assert_msg(a && strcmp(a, allow) == 0, "%s %s: a 405 says what the path takes: expected Allow: %s, got %s; "
                  KIT_LESSON(LESSON, "Routing: a 404 and a 405"),
                  method, uri, allow, a ? a : "no Allow header");
    ck_assert_msg(strcmp(r.body, "Method Not Allowed\n") == 0, "%s %s: expected the body \"Method Not Allowed\\n\", got \"%s\"", method, uri, r.body);
    green_wsgi_result_free(&r);
}

START_TEST(test_method_not_allowed)
{
    expect_405("POST", "/", "GET, HEAD");
    expect_405("DELETE", "/", "GET, HEAD");
    expect_405("POST", "/hello?name=x", "GET, HEAD");
    expect_405("PUT", "/count", "GET, POST");
    expect_405("HEAD", "/count", "GET, POST");
    ck_assert_msg(app.count == 0, "only POST /count adds to the counter, it is %ld", app.count);
    green_hub_destroy();
}
END_TEST

/* Overwrite the stack below the caller, where a returned function's
 * locals were. */
static void __attribute__((noinline)) clobber_stack(void)
{
    volatile char junk[16384];
    for (size_t i = 0; i < sizeof junk; i++)
        junk[i] = 'X';
}

START_TEST(test_body_outlives_call)
{
    /* Called by hand, as a server does: the body is walked after the app
     * has returned and other code has run on the stack. */
    green_environ_t env = { .method = "GET", .path = "/hello", .query = "name=Ada",
                            .uri = "/hello?name=Ada", .protocol = "HTTP/1.1",
                            .content_length = -1 };
    green_response_t resp;
    green_response_init(&resp);
    green_body_t body = green_app_call(&app.app, &env, &resp);
    clobber_stack();
    char got[64] = "";
    size_t used = 0;
    green_chunk_t c;
    while (green_body_next(&body, &c) && used + c.len < sizeof got) {
        memcpy(got + used, c.data, c.len);
        used += c.len;
    }
    got[used] = '\0';
    green_body_close(&body);
    ck_assert_msg(strcmp(got, "Hello, Ada!\n") == 0,
                  "GET /hello?name=Ada: the server walks the body after your function returned, and read \"%s\": "
                  "a body that points into a local buffer points into a dead frame; copy it with green_body_copy(); "
                  KIT_LESSON(LESSON, "The body: a list or a generator"), got);
    green_hub_destroy();
}
END_TEST

static Suite *routes_suite(void)
{
    Suite *s = suite_create("09-wsgi/routes");
    TCase *tc = kit_tcase("routes");
    tcase_add_checked_fixture(tc, setup, NULL);
    tcase_add_test(tc, test_root);
    tcase_add_test(tc, test_not_found);
    tcase_add_test(tc, test_hello_name);
    tcase_add_test(tc, test_hello_decoded);
    tcase_add_test(tc, test_hello_default);
    tcase_add_test(tc, test_hello_bad);
    tcase_add_test(tc, test_count);
    tcase_add_test(tc, test_count_per_app);
    tcase_add_test(tc, test_method_not_allowed);
    tcase_add_test(tc, test_body_outlives_call);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) { return kit_run_suite(routes_suite()); }
