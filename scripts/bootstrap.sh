#!/usr/bin/env bash
# Installs everything anydesk_invite needs on a Debian machine: system libraries for Qt
# (when run as root; otherwise it names what is missing and stops), then a virtualenv in
# .venv with the package and, with --test, the test tools. Safe to run again: each step
# is skipped when already done.
set -euo pipefail
cd "$(dirname "$0")/.."

want_test=0
[ "${1:-}" = "--test" ] && want_test=1

APT_RUNTIME="libegl1 libgl1 libglib2.0-0 libfontconfig1 libxkbcommon0 libdbus-1-3 fonts-dejavu-core \
libx11-xcb1 libxkbcommon-x11-0 libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1 libxcb-image0 \
libxcb-render-util0 libxcb-shape0 libxcb-randr0 libxcb-xfixes0 libxcb-xkb1 libx11-6 libxext6 \
python3-venv"
APT_TEST="xvfb xauth x11-utils imagemagick xdotool openbox dbus gnome-keyring iproute2 desktop-file-utils \
appstream bind9 bind9-dnsutils mutter xdg-desktop-portal xdg-desktop-portal-gnome pipewire \
pipewire-bin wireplumber gstreamer1.0-pipewire gstreamer1.0-tools gstreamer1.0-plugins-base \
libglib2.0-bin fuse3 foot procps"

pkgs="$APT_RUNTIME"
[ "$want_test" = 1 ] && pkgs="$pkgs $APT_TEST"

if command -v dpkg-query >/dev/null 2>&1; then
  missing=""
  for p in $pkgs; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
  done
  if [ -n "$missing" ]; then
    if [ "$(id -u)" = 0 ]; then
      echo "bootstrap: installing system packages:$missing" >&2
      apt-get update -qq
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing >/dev/null
    else
      echo "bootstrap: these Debian packages are missing:$missing" >&2
      echo "bootstrap: install them with: sudo apt-get install$missing" >&2
      exit 1
    fi
  fi
fi

PY="${PYTHON:-python3}"
stamp_src=$(cat pyproject.toml | sha256sum | cut -c1-16)
stamp=".venv/.installed-$stamp_src-$want_test"
if [ ! -f "$stamp" ]; then
  [ -x .venv/bin/python ] || "$PY" -m venv .venv
  .venv/bin/python -m pip install -q --upgrade pip >/dev/null
  if [ "$want_test" = 1 ]; then
    .venv/bin/python -m pip install -q -e ".[test]"
  else
    .venv/bin/python -m pip install -q -e .
  fi
  rm -f .venv/.installed-*
  touch "$stamp"
fi
