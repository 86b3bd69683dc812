#!/usr/bin/env bash
# Starts two GUI clients side by side on this machine, loopback only, so a whole invitation
# can be tried without a second computer: "anna@ad" and "ben@ad", each with its own home
# (its own key and ID) under a temporary folder. Ctrl-C stops both and removes the folder.
#
# In anna's window click the invite icon, type ben's ID (shown in ben's window) and Send;
# ben's toast appears at the bottom right. Or paste an ID into the Connect field.
# Without a display, run it under Xvfb: xvfb-run -a -s "-screen 0 1920x1080x24" scripts/demo.sh
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
if [[ -z "${DISPLAY:-}" && -z "${WAYLAND_DISPLAY:-}" && -z "${QT_QPA_PLATFORM:-}" ]]; then
    echo "demo: no display; run it in a desktop session or under xvfb-run" >&2
    exit 2
fi
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

for name in anna ben; do
    # Discovery stays on, but only on 127.0.0.1: the two find each other and nobody else.
    "$PY" -m anydesk_invite --home "$demo_dir/$name" --interface 127.0.0.1 --alias "$name@ad" &
    pids+=("$!")
done
echo "demo: anna@ad and ben@ad are running (homes in $demo_dir); Ctrl-C stops both"
wait -n "${pids[@]}" || true
