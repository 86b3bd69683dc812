#!/usr/bin/env bash
# Refreshes the translation sources from the UI code and rebuilds the compiled translations:
# pyside6-lupdate collects every tr()/translate() string of anydesk_invite/ui/*.py into
# resources/translations/anydesk_invite_<lang>.ts (new strings arrive unfinished, vanished
# ones are dropped), then pyside6-lrelease builds the .qm files the app loads.
# Usage: scripts/update_translations.sh [lang ...]   (default: every existing .ts, else de)
set -euo pipefail
cd "$(dirname "$0")/.."
bin="${PYSIDE6_BIN:-$PWD/.venv/bin}"
dir=resources/translations
mkdir -p "$dir"
langs=("$@")
if [ ${#langs[@]} -eq 0 ]; then
  for ts in "$dir"/anydesk_invite_*.ts; do
    [ -e "$ts" ] || continue
    name="${ts##*/anydesk_invite_}"
    langs+=("${name%.ts}")
  done
fi
[ ${#langs[@]} -gt 0 ] || langs=(de)
for lang in "${langs[@]}"; do
  ts="$dir/anydesk_invite_$lang.ts"
  # No line numbers: the .ts changes only when the strings do.
  "$bin/pyside6-lupdate" anydesk_invite/ui/*.py -no-obsolete -locations none \
    -target-language "$lang" -ts "$ts"
  "$bin/pyside6-lrelease" "$ts" -qm "$dir/anydesk_invite_$lang.qm"
done
