# serve.sh - sourced by the run.sh of the server chapters (7, 10, 11, 12).
#
# wait_listening FILE: wait until the server started in the background,
# whose output goes to FILE, prints "listening on http://HOST:PORT" (the
# kit's servers all do, once they accept), then set $port to PORT.  A
# server that has not said it within 5 s is shown and the script ends.
wait_listening() {
    tries=0
    until grep -qs '^listening on http://' "$1"; do    # -s: not created yet
        tries=$((tries + 1))
        if [ $tries -gt 50 ]; then
            echo "the server did not start:"; cat "$1"; exit 1
        fi
        sleep 0.1
    done
    port=$(sed -n 's|^listening on http://.*:\([0-9]*\)$|\1|p' "$1")
}
