#!/usr/bin/env bash
# Starts two GUI clients side by side on this machine, loopback only, so a whole invitation
# can be tried without a second computer: "anna@ad" (left half of the screen) and "ben@ad"
# (right half), each with its own home (its own key and ID) under a temporary folder. Sets
# itself up first as scripts/run-app.sh does (system packages as root, .venv). Exits non-zero,
# with the client's own words, when a client does not start. Ctrl-C stops both and removes the
# folder.
#
# In anna's window click the invite icon, type ben@ad (or ben's ID, shown in ben's window) and
# Send; confirm ben's device the first time; ben's toast appears at the bottom right. Or paste an
# ID into the Connect field.
# Without a display, run it under Xvfb: xvfb-run -a -s "-screen 0 1920x1080x24" scripts/demo.sh
set -euo pipefail
cd "$(dirname "$0")/.."
if [[ -z "${DISPLAY:-}" && -z "${WAYLAND_DISPLAY:-}" && -z "${QT_QPA_PLATFORM:-}" ]]; then
    echo "demo: no display; run it in a desktop session or under xvfb-run" >&2
    exit 2
fi
if [[ -z "${PY:-}" ]]; then
    bash scripts/bootstrap.sh
    PY=.venv/bin/python
fi
START_TIMEOUT=${DEMO_START_TIMEOUT:-60}
demo_dir=$(mktemp -d "${TMPDIR:-/tmp}/adinvite-demo.XXXXXX")
pids=()

stop() {
    trap - INT TERM EXIT
    for pid in "${pids[@]}"; do
        kill -TERM "$pid" 2>/dev/null || true
    done
    for pid in "${pids[@]}"; do
        wait "$pid" 2>/dev/null || true
    done
    rm -rf "$demo_dir"
}
trap stop INT TERM EXIT

# started NAME PID: waits until the client answers on its control socket; fails with its log
# when it exits first or does not answer in time.
started() {
    local name=$1 pid=$2 waited=0
    until "$PY" -m anydesk_invite --home "$demo_dir/$name" --get-id >/dev/null 2>&1; do
        if ! kill -0 "$pid" 2>/dev/null; then
            local code=0
            wait "$pid" || code=$?
            echo "demo: $name@ad did not start (exit $code):" >&2
            tail -n 20 "$demo_dir/$name.log" >&2
            return 1
        fi
        if ((waited >= START_TIMEOUT * 5)); then
            echo "demo: $name@ad did not answer within $START_TIMEOUT s:" >&2
            tail -n 20 "$demo_dir/$name.log" >&2
            return 1
        fi
        sleep 0.2
        waited=$((waited + 1))
    done
}

side=(left right)
i=0
for name in anna ben; do
    # Discovery stays on, but only on 127.0.0.1: the two find each other and nobody else.
    ADINVITE_WINDOW_SIDE=${side[$i]} "$PY" -m anydesk_invite --home "$demo_dir/$name" \
        --interface 127.0.0.1 --alias "$name@ad" >"$demo_dir/$name.log" 2>&1 &
    pids+=("$!")
    i=$((i + 1))
done
i=0
for name in anna ben; do
    started "$name" "${pids[$i]}" || exit 1
    i=$((i + 1))
done
echo "demo: anna@ad (left) and ben@ad (right) are running (homes in $demo_dir); Ctrl-C stops both"
code=0
wait -n "${pids[@]}" || code=$?
if ((code != 0)); then
    echo "demo: a client stopped with exit $code" >&2
    exit "$code"
fi
