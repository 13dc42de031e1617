/*
 * http_static.c - chapter 11: the HTTP server's static files (see
 * http_internal.h).
 *
 * Static files are not part of the server: they are an application
 * wrapped around the user's, which answers for paths under the prefix
 * ("/static/") and passes every other request on.  The server only sends
 * what it returns, a file body, with sendfile() (http.c).  What is here is
 * the part that must be right for safety, and is read on its own: opening
 * a path a client wrote without ever leaving the folder (openat2 with
 * RESOLVE_BENEATH, or a walk one name at a time), serving only regular
 * files, and 304 Not Modified from the file's time.
 */
#include "http_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#if defined(SYS_openat2) && __has_include(<linux/openat2.h>)
#include <linux/openat2.h>
#define HAVE_OPENAT2 1
#endif

const char *green_http_content_type(const char *name)
{
    static const char *const types[][2] = {
        { "html", "text/html; charset=utf-8" }, { "htm", "text/html; charset=utf-8" },
        { "css", "text/css" }, { "js", "text/javascript" },
        { "json", "application/json" }, { "txt", "text/plain; charset=utf-8" },
        { "md", "text/markdown; charset=utf-8" }, { "xml", "application/xml" },
        { "svg", "image/svg+xml" }, { "png", "image/png" }, { "jpg", "image/jpeg" },
        { "jpeg", "image/jpeg" }, { "gif", "image/gif" }, { "ico", "image/x-icon" },
        { "webp", "image/webp" }, { "pdf", "application/pdf" },
        { "wasm", "application/wasm" }, { "woff2", "font/woff2" },
        { "mp4", "video/mp4" },
    };
    const char *dot = strrchr(name, '.');
    if (dot && !strchr(dot, '/'))
        for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
            if (strcasecmp(dot + 1, types[i][0]) == 0)
                return types[i][1];
    return "application/octet-stream";
}

static green_body_t static_text(green_response_t *resp, const char *status)
{
    green_header_t h[] = { { "Content-Type", "text/plain" } };
    green_start_response(resp, status, h, 1);
    return green_body_str(status + 4);
}

/* Is there a ".." segment in path?  It is PATH_INFO, already decoded, so
 * "%2e%2e" is caught too. */
static int has_dot_dot(const char *path)
{
    for (const char *p = path; (p = strstr(p, "..")) != NULL; p += 2)
        if ((p == path || p[-1] == '/') && (p[2] == '\0' || p[2] == '/'))
            return 1;
    return 0;
}

/* How a static file is opened: O_NONBLOCK, so that a FIFO (which waits
 * for a writer) or a device cannot stop the hub; O_NOCTTY, so that a
 * terminal never becomes ours.  O_NONBLOCK changes nothing for a regular
 * file, the only kind that is served. */
#define STATIC_OPEN (O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY)

/* Set once openat2() answered ENOSYS: a kernel older than 5.6 (or
 * qemu-user, or Valgrind), where asking again would only fail again. */
static int no_openat2;

/* The kernel resolves `rel` from the folder in one step, refusing any
 * step out of it (a "..", an absolute symbolic link, one that climbs out)
 * and /proc's magic links: there is no moment between a check and the
 * open for anyone to swap a name.  EAGAIN: a rename raced with the
 * lookup, which the kernel asks us to retry. */
static int open_beneath_kernel(int root, const char *rel)
{
#ifdef HAVE_OPENAT2
    struct open_how how = {
        .flags = STATIC_OPEN,
        .resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS,
    };
    long fd;
    for (int tries = 0; tries < 3; tries++)
        if ((fd = syscall(SYS_openat2, root, rel, &how, sizeof how)) >= 0 ||
            errno != EAGAIN)
            break;
    return (int)fd;
#else
    (void)root, (void)rel;
    errno = ENOSYS;
    return -1;
#endif
}

/* Where openat2() is missing: walk `rel` one name at a time, each opened
 * from the directory before it with O_NOFOLLOW, so no symbolic link is
 * ever followed (stricter than openat2, which follows one that stays
 * inside).  A name is the last one unless a '/' follows it. */
static int open_beneath_walk(int root, const char *rel)
{
    int dir = root, fd;
    for (;;) {
        size_t len = strcspn(rel, "/");
        char name[NAME_MAX + 1];
        int up = len == 2 && rel[0] == '.' && rel[1] == '.';
        if (len == 0 || len > NAME_MAX || up) {
            errno = up ? EXDEV : len ? ENAMETOOLONG : ENOENT;
            fd = -1;
            break;
        }
        memcpy(name, rel, len);
        name[len] = '\0';
        int last = rel[len] == '\0';
        fd = openat(dir, name, last ? STATIC_OPEN | O_NOFOLLOW
                                    : O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_DIRECTORY);
        struct stat st;         /* O_DIRECTORY on a link says ENOTDIR */
        if (fd < 0 && errno == ENOTDIR &&
            fstatat(dir, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode))
            errno = ELOOP;
        if (fd < 0 || last)
            break;
        if (dir != root)
            close(dir);
        dir = fd;
        rel += len + strspn(rel + len, "/");
    }
    if (dir != root) {
        int saved = errno;
        close(dir);
        errno = saved;
    }
    return fd;
}

/* Open the file for `rel` under the folder: NULL status on success (*fd
 * set), else the status to answer.  ".." is refused outright.  The path
 * is never checked first and opened after: between the two, a directory
 * on it could be swapped for a symbolic link out of the folder.  Only a
 * regular file is served; a FIFO, a device or a folder is 404. */
static const char *open_static(struct green__http_static *s, const char *rel,
                               int *fd, struct stat *st)
{
    if (has_dot_dot(rel))
        return "403 Forbidden";
    rel += strspn(rel, "/");    /* "/static//a" is "a", not "/a" */
    *fd = -1;
    if (!__atomic_load_n(&no_openat2, __ATOMIC_RELAXED)) {
        *fd = open_beneath_kernel(s->dir_fd, rel);
        if (*fd < 0 && errno == ENOSYS)
            __atomic_store_n(&no_openat2, 1, __ATOMIC_RELAXED);
    }
    if (*fd < 0 && __atomic_load_n(&no_openat2, __ATOMIC_RELAXED))
        *fd = open_beneath_walk(s->dir_fd, rel);
    if (*fd < 0)                /* EXDEV, ELOOP: a way out of the folder */
        return errno == EACCES || errno == EXDEV || errno == ELOOP ?
               "403 Forbidden" : "404 Not Found";
    if (fstat(*fd, st) < 0 || !S_ISREG(st->st_mode)) {
        close(*fd);
        return "404 Not Found";
    }
    return NULL;
}

/* The static files application: under the prefix, a file (or 304, 403,
 * 404, 405); anything else goes to the application it wraps. */
static green_body_t static_call(green_app_t *self, green_environ_t *env,
                                green_response_t *resp)
{
    struct green__http_static *s = (struct green__http_static *)self;
    if (strncmp(env->path, s->prefix, s->prefix_len) != 0)
        return green_app_call(s->inner, env, resp);
    if (strcmp(env->method, "GET") != 0 && strcmp(env->method, "HEAD") != 0)
        return static_text(resp, "405 Method Not Allowed");

    int fd;
    struct stat st;
    const char *refused = open_static(s, env->path + s->prefix_len, &fd, &st);
    if (refused)
        return static_text(resp, refused);

    char modified[32];
    green_http_date(st.st_mtime, modified);
    time_t since = green_http_parse_date(green_environ_header(env, "If-Modified-Since"));
    green_header_t h[] = {
        { "Last-Modified", modified },
        { "Content-Type", green_http_content_type(env->path) },
    };
    if (since != -1 && st.st_mtime <= since) {
        close(fd);              /* the client's copy is current */
        green_start_response(resp, "304 Not Modified", h, 1);
        return green_body_empty();
    }
    green_start_response(resp, "200 OK", h, 2);
    return green_body_file(fd, 0, (long long)st.st_size);
}

/* Wrap the application in the static files one.  Returns 0 or -1. */
int green__http_static_setup(green_http_server_t *srv, green_app_t *app)
{
    struct green__http_static *s = &srv->statics;
    srv->app = app;
    if (!srv->opt.static_dir)
        return 0;
    s->dir_fd = open(srv->opt.static_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (s->dir_fd < 0)
        return -1;
    s->prefix = strdup(srv->opt.static_prefix);
    if (!s->prefix) {
        close(s->dir_fd);
        return -1;
    }
    s->prefix_len = strlen(s->prefix);
    s->app.call = static_call;
    s->inner = app;
    srv->app = &s->app;
    return 0;
}
