#!/usr/bin/env bash
# Installs what the app needs (system packages as root, .venv) and starts it.
# Arguments go to the app, e.g. --home DIR, --interface 127.0.0.1, --headless.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
exec .venv/bin/python -m anydesk_invite "$@"
