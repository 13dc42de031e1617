/*
 * http_log.c - chapter 11: the HTTP server's clock and access log (see
 * http_internal.h).
 *
 * Every request touches both, and neither is about HTTP connections: the
 * clock formats the Date header once a second, not once a request; the
 * access log writes one Common Log Format line per request into a buffer
 * that goes out when full, once a second (a greenlet of its own), and at
 * stop.  Their own file, so that http.c reads as one connection's life
 * and this reads as "what does a request cost besides its own work".
 * green_http_date and green_http_parse_date (http.h) live here too: the
 * clock's format, which static files reuse for Last-Modified.
 */
#include "http_internal.h"
#include "hub.h"
#include "io.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* The log is written once a second (log_flusher). */
#define LOG_EVERY              1.0

static const char *const day_names[] = {
    "Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat" };
static const char *const month_names[] = {
    "Jan", "Feb", "Mar", "Apr", "May", "Jun",
    "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };

/* Our own names, not strftime's %a and %b: those follow the locale, and
 * HTTP dates are always in English. */
char *green_http_date(time_t t, char *buf)
{
    struct tm tm;
    gmtime_r(&t, &tm);
    /* Years past 9999 would not fit: HTTP dates stop there. */
    int year = tm.tm_year + 1900 > 9999 ? 9999 : tm.tm_year + 1900;
    snprintf(buf, 30, "%s, %02d %s %04d %02d:%02d:%02d GMT",
             day_names[tm.tm_wday % 7], tm.tm_mday % 100,
             month_names[tm.tm_mon % 12], year % 10000, tm.tm_hour % 100,
             tm.tm_min % 100, tm.tm_sec % 100);
    return buf;
}

time_t green_http_parse_date(const char *s)
{
    char day[4], month[4];
    int d, y, h, m, sec, end = 0;
    if (!s || sscanf(s, "%3[A-Za-z], %2d %3[A-Za-z] %4d %2d:%2d:%2d GMT%n", day, &d, month,
                     &y, &h, &m, &sec, &end) != 7 || end == 0 || s[end])
        return -1;
    for (int i = 0; i < 12; i++)
        if (strcmp(month, month_names[i]) == 0) {
            struct tm tm = { .tm_year = y - 1900, .tm_mon = i, .tm_mday = d,
                             .tm_hour = h, .tm_min = m, .tm_sec = sec };
            return timegm(&tm);
        }
    return -1;
}

/* Reformat the dates when the second has changed.  time() costs a few
 * nanoseconds (the vDSO); formatting a date costs a hundred times more,
 * and at 100,000 requests a second it would be done 100,000 times for
 * one new value. */
void green__http_tick(green_http_server_t *srv)
{
    time_t now = time(NULL);
    if (now == srv->clock_at)
        return;
    srv->clock_at = now;
    green_http_date(now, srv->date);
    struct tm tm;
    gmtime_r(&now, &tm);
    snprintf(srv->clf_date, sizeof srv->clf_date,
             "%02d/%s/%04d:%02d:%02d:%02d +0000", tm.tm_mday,
             month_names[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour,
             tm.tm_min, tm.tm_sec);
}

/* Write the log buffer out.  A plain write(): the log is a file or a
 * terminal, and this happens once a second, not once a request. */
void green__http_log_flush(green_http_server_t *srv)
{
    size_t done = 0;
    while (done < srv->log_len) {
        ssize_t n = write(srv->opt.access_log_fd, srv->log + done,
                          srv->log_len - done);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno == EAGAIN &&
            green_wait_write(srv->opt.access_log_fd, 1.0) == 0)
            continue;
        if (n <= 0)
            break;              /* the log is gone: drop the lines */
        done += (size_t)n;
    }
    srv->log_len = 0;
}

/* The flusher greenlet: the log is at most a second behind. */
static void *log_flusher(void *arg)
{
    green_http_server_t *srv = arg;
    while (green_sleep(LOG_EVERY) == 0)
        if (srv->log_len > 0)
            green__http_log_flush(srv);
    return NULL;
}

/* Copy `s` into out[0..size) with what a client wrote made harmless:
 * '"', '\', control bytes and bytes from 0x7f up become "\xHH", as
 * nginx writes them.  A raw '"' in a target would end the quoted field
 * early, and the text after it would read as a forged status and size
 * (a CR or LF, as a forged line).  Cut short rather than overflow;
 * returns the length written. */
static size_t log_escape(char *out, size_t size, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t n = 0;
    for (; *s; s++) {
        unsigned char b = (unsigned char)*s;
        int plain = b >= 0x20 && b < 0x7f && b != '"' && b != '\\';
        if (n + (plain ? 1 : 4) >= size)
            break;
        if (plain) {
            out[n++] = (char)b;
        } else {
            out[n++] = '\\';
            out[n++] = 'x';
            out[n++] = hex[b >> 4];
            out[n++] = hex[b & 15];
        }
    }
    out[n] = '\0';
    return n;
}

/* One line in the Common Log Format:
 *   127.0.0.1 - - [06/Nov/1994:08:49:37 +0000] "GET / HTTP/1.1" 200 13
 * `request` is NULL for a request too bad to quote; it is escaped
 * (log_escape), since the client wrote it. */
void green__http_log_request(green_http_server_t *srv, const char *remote,
                             const char *request, int code,
                             long long body_sent)
{
    if (!srv->log)
        return;
    if (!srv->flusher && !green__http_closing(srv)) {
        srv->flusher = green_spawn(log_flusher, srv);
        if (srv->flusher)
            green_set_name(srv->flusher, "access log");
    }
    char line[1200], bytes[24] = "-", quoted[900];
    log_escape(quoted, sizeof quoted, request ? request : "-");
    if (body_sent > 0)
        snprintf(bytes, sizeof bytes, "%lld", body_sent);
    int n = snprintf(line, sizeof line, "%s - - [%s] \"%s\" %d %s\n",
                     remote, srv->clf_date, quoted, code, bytes);
    if (n < 0 || (size_t)n >= sizeof line)
        return;                 /* cannot happen: every field is bounded */
    if (srv->log_len + (size_t)n > GREEN__HTTP_LOG_BUF)
        green__http_log_flush(srv);
    memcpy(srv->log + srv->log_len, line, (size_t)n);
    srv->log_len += (size_t)n;
}
