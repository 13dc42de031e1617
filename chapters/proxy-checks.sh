# proxy-checks.sh NAME - sourced (bash) by the tests that put the kit's
# servers behind real nginx: chapter 12's and chapter 13's test-proxy.sh.
# What they share: they skip (status 0, a "skip:" line) when nginx or curl
# is missing; a work folder ($work) removed at exit, and the proxy they
# started ($proxy_pid) stopped however they end; ok and fail, which count
# and print a check's verdict (fail's further arguments: lines saying
# what was expected and what came).
command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] ||
    { echo "skip: nginx is not installed (make deps-bench)"; exit 0; }
command -v curl >/dev/null || { echo "skip: curl is not installed (make deps-bench)"; exit 0; }

work=$(mktemp -d "${TMPDIR:-/tmp}/$1.XXXXXX") || exit 1
proxy_pid=
cleanup() {
    [ -n "$proxy_pid" ] && kill -TERM "$proxy_pid" 2>/dev/null && wait "$proxy_pid" 2>/dev/null
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

passed=0 failed=0
ok()   { passed=$((passed + 1)); echo "ok   $1"; }
fail() { failed=$((failed + 1)); echo "FAIL $1"; shift; for l in "$@"; do echo "     $l"; done; }
