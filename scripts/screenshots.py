"""Pictures of the real app for docs/screenshots (``make screenshots``).

For each screen size an Xvfb display of its own with the openbox window manager; on it client
anna@ad with its windows, ben@ad with his (iconified until his session window is shown) and
carla@ad headless, all on 127.0.0.1 with temporary homes. anna's database is seeded with a
favorite and address-book entries before it starts; the scenes are driven through the command
line and xdotool and captured full-screen with ImageMagick's ``import``: main window, invite
dialog, outgoing invitation, toast, connection request and session in the Accept Window, the
guest's session window, settings, and a first start on a desktop without a keyring (dora@ad).
Saved as docs/screenshots/<scene>-<W>x<H>.png (…@2x.png for the run at QT_SCALE_FACTOR=2).

Needs Xvfb, openbox, xdotool and imagemagick (scripts/bootstrap.sh --test). Where gnome-keyring and
dbus-run-session exist, the clients keep their keys in a throwaway keyring, as on a desktop.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from anydesk_invite.core.alias import parse_alias  # noqa: E402
from anydesk_invite.core.ids import DeviceId, parse_id  # noqa: E402
from anydesk_invite.storage.contacts import AddressEntry  # noqa: E402
from anydesk_invite.storage.db import Database  # noqa: E402
from anydesk_invite.storage.home import Home  # noqa: E402
from anydesk_invite.storage.settings import StoredSettings  # noqa: E402
from tests.helpers.xvfb import xvfb  # noqa: E402

PY = str(ROOT / ".venv" / "bin" / "python")
SIZES = ((1920, 1080, 1), (1280, 800, 1), (1920, 1080, 2))
"""Width, height and Qt scale factor of each run (the last as on a high-density screen)."""
DESKTOP_COLOUR = "#46535f"
WAIT = 30.0
"""Seconds any one condition may take before the run gives up (discovery takes ~2 s)."""
SETTLE = 0.4
"""Qt repaints a window a moment after a change it was told about over the network; nothing
outside the process can observe that, so a capture waits this long after the change is seen."""
_ISOLATED_FLAG = "ADINVITE_SCREENSHOTS_ISOLATED"

T = TypeVar("T")


class SceneError(RuntimeError):
    """A scene could not be set up; the message says what was awaited."""


def wait_for(what: str, probe: Callable[[], T | None], timeout: float = WAIT) -> T:
    """Poll ``probe`` until it returns something other than None/False."""
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if value is not None and value is not False:
            return value
        if time.monotonic() > deadline:
            raise SceneError(f"gave up waiting for {what}")
        time.sleep(0.1)


# --- the X display -------------------------------------------------------------------------


@dataclass
class Geometry:
    x: int
    y: int
    w: int
    h: int


class Display:
    """An X display (tests/helpers/xvfb.py starts it), and what the scenes do on it."""

    def __init__(self, name: str, width: int, height: int, scale: int = 1) -> None:
        self.name = name
        self.width = width
        self.height = height
        self.scale = scale
        """QT_SCALE_FACTOR of the clients: places inside a window are given in logical pixels."""
        self._paint_background()
        # A window manager, as on a desktop: title bars, and windows placed by the app.
        self._wm = subprocess.Popen(
            ["openbox", "--sm-disable"],
            env=self.env(),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_for("openbox to manage the screen", self._managed)

    def _managed(self) -> bool:
        from Xlib import display as xdisplay

        d = xdisplay.Display(self.name)
        try:
            atom = d.intern_atom("_NET_SUPPORTING_WM_CHECK")
            return d.screen().root.get_full_property(atom, 0) is not None
        finally:
            d.close()

    def env(self) -> dict[str, str]:
        return {**os.environ, "DISPLAY": self.name}

    def _paint_background(self) -> None:
        from Xlib import display as xdisplay  # python-xlib, a dependency of the app

        d = xdisplay.Display(self.name)
        root = d.screen().root
        colour = d.screen().default_colormap.alloc_named_color(DESKTOP_COLOUR)
        root.change_attributes(background_pixel=colour.pixel)
        root.clear_area()
        d.sync()
        d.close()

    def xdotool(self, *args: str) -> str:
        out = subprocess.run(
            ["xdotool", *args], env=self.env(), capture_output=True, text=True, check=False
        )
        return out.stdout.strip()

    def windows(self, name: str = "", pid: int | None = None) -> list[int]:
        """Visible windows whose title matches the regular expression ``name``."""
        owner = ["--pid", str(pid)] if pid is not None else []
        found = self.xdotool("search", "--onlyvisible", *owner, "--name", name)
        return [int(w) for w in found.split()]

    def window(self, name: str, pid: int | None = None) -> int:
        return wait_for(f"a window named {name!r}", lambda: (self.windows(name, pid) or [None])[-1])

    def geometry(self, wid: int) -> Geometry:
        values: dict[str, int] = {}
        for line in self.xdotool("getwindowgeometry", "--shell", str(wid)).splitlines():
            key, _, value = line.partition("=")
            if key in ("X", "Y", "WIDTH", "HEIGHT"):
                values[key] = int(value)
        return Geometry(values["X"], values["Y"], values["WIDTH"], values["HEIGHT"])

    def move(self, wid: int, x: int, y: int) -> None:
        self.xdotool("windowmove", "--sync", str(wid), str(x), str(y))

    def minimize(self, wid: int) -> None:
        """Out of the picture: the window manager keeps windows on the screen, so iconify."""
        self.xdotool("windowminimize", "--sync", str(wid))

    def unmap(self, wid: int) -> None:
        """Out of the picture, for a window the window manager does not iconify (a toast)."""
        self.xdotool("windowunmap", "--sync", str(wid))

    def click(self, wid: int, x: int, y: int) -> None:
        """Click at (x, y) inside the window (negative x counts from its right edge)."""
        x, y = x * self.scale, y * self.scale
        if x < 0:
            x += self.geometry(wid).w
        self.xdotool("mousemove", "--window", str(wid), str(x), str(y), "click", "1")

    def type_into(self, wid: int, text: str) -> None:
        self.xdotool("windowfocus", "--sync", str(wid))
        self.xdotool("type", "--delay", "20", text)

    def key(self, wid: int, *keys: str) -> None:
        self.xdotool("windowfocus", "--sync", str(wid))
        self.xdotool("key", *keys)

    def park_pointer(self) -> None:
        # Out of the way, so no tooltip or hover highlight ends up in a picture.
        self.xdotool("mousemove", str(self.width - 1), str(self.height - 1))

    def capture(self, out: Path) -> None:
        """Save the whole screen as ``out``, as a person sees it."""
        time.sleep(SETTLE)
        subprocess.run(["/usr/bin/import", "-window", "root", str(out)], env=self.env(), check=True)
        print(f"  {out.relative_to(ROOT) if out.is_relative_to(ROOT) else out}")

    def close(self) -> None:
        """Stop the window manager (the display itself is stopped by its helper)."""
        self._wm.terminate()
        self._wm.wait(10)


# --- the clients -----------------------------------------------------------------------------


class Client:
    """One running client with its own home, and its command line."""

    def __init__(
        self,
        home: Path,
        alias: str,
        display: Display | None,
        log: Path,
        keyring: bool = True,
    ) -> None:
        self.home = home
        self.alias = alias
        env = dict(os.environ)
        args = [
            PY,
            "-m",
            "anydesk_invite",
            "--home",
            str(home),
            "--interface",
            "127.0.0.1",
            "--alias",
            alias,
        ]
        if not keyring:
            # A desktop without a keyring: the key goes to a file, and the window says so.
            env["PYTHON_KEYRING_BACKEND"] = "keyring.backends.fail.Keyring"
        if display is None:
            env.pop("DISPLAY", None)
            args.append("--headless")
        else:
            env.update(display.env(), QT_QPA_PLATFORM="xcb")
            if display.scale != 1:
                env["QT_SCALE_FACTOR"] = str(display.scale)
        self._log = log.open("w")
        self._proc = subprocess.Popen(args, env=env, stdout=self._log, stderr=subprocess.STDOUT)
        self.pid = self._proc.pid
        self.status: dict[str, Any] = wait_for(f"{alias} to answer", self._status)

    def _status(self) -> dict[str, Any] | None:
        if self._proc.poll() is not None:
            logs = [self._log.name, self.home / "logs" / "anydesk-invite.log"]
            tail = [
                line for p in map(Path, logs) if p.exists() for line in p.read_text().splitlines()
            ]
            raise SceneError(
                f"{self.alias} exited with {self._proc.returncode}: " + "\n".join(tail[-15:])
            )
        try:
            status = self.cli("--get-status")
        except SceneError:
            return None
        return status if status.get("online") else None

    @property
    def device_id(self) -> str:
        return str(self.status["id"])

    @property
    def fingerprint(self) -> str:
        return str(self.status["fingerprint"])

    def cli(self, *args: str) -> Any:
        out = subprocess.run(
            [PY, "-m", "anydesk_invite", "--home", str(self.home), "--json", *args],
            capture_output=True,
            text=True,
            check=False,
            env={k: v for k, v in os.environ.items() if k != "DISPLAY"},
        )
        if out.returncode != 0:
            raise SceneError(f"{self.alias}: {' '.join(args)}: {out.stderr.strip()}")
        return json.loads(out.stdout)

    def invitations(self, **match: str) -> list[dict[str, Any]]:
        return [
            inv for inv in self.cli("invitations") if all(inv.get(k) == v for k, v in match.items())
        ]

    def close(self) -> None:
        self._proc.terminate()
        try:
            self._proc.wait(15)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait()
        self._log.close()


def seed_address_book(home_dir: Path, ben: Client, carla: Client) -> None:
    """Before anna starts: ben is a favorite; carla and an offline device are in her book;
    files she receives go to a folder of the run, not the Downloads of whoever runs it."""
    home = Home.resolve(str(home_dir))
    with Database.open(home.db_path) as db:
        db.settings.set(StoredSettings.INCOMING_FOLDER, str(home_dir.parent / "anna-downloads"))
        db.favorites.add(
            parse_id(ben.device_id), parse_alias(ben.alias), bytes.fromhex(ben.fingerprint)
        )
        db.address_book.add(
            AddressEntry(
                parse_id(carla.device_id),
                parse_alias(carla.alias),
                display_name="Carla's desktop",
                tags=("office", "design"),
                fingerprint=bytes.fromhex(carla.fingerprint),
            )
        )
        db.address_book.add(
            AddressEntry(
                DeviceId.from_fingerprint(bytes(range(32))),
                parse_alias("dora"),
                display_name="Dora's laptop",
                tags=("family",),
                # A loopback port nobody listens on: the entry shows offline.
                manual_address="127.0.0.1:9",
            )
        )


# --- the scenes -------------------------------------------------------------------------------

MAIN_TITLE = "^[^ ]+@[^ ]+ — LAN Invite$"  # "anna@ad — LAN Invite", not a session window
# Where to click inside anna's 1000x680 main window (fonts-dejavu-core, tabular digits). Seen
# in the main-window picture; look again if the header or tab titles change.
INVITE_BUTTON = (230, 60)
SETTINGS_BUTTON = (-28, 44)
DISCOVERY_TAB = (255, 141)
WARNING_HEIGHT = 34
"""The key-in-a-file warning (--no-keyring) pushes the tabs down by this much."""


def shoot_size(width: int, height: int, out_dir: Path, work: Path, scale: int = 1) -> None:
    suffix = f"{width}x{height}" + (f"@{scale}x" if scale != 1 else "")
    print(f"{suffix}:")

    def out(scene: str) -> Path:
        return out_dir / f"{scene}-{suffix}.png"

    with ExitStack() as stack:
        x = Display(stack.enter_context(xvfb(width, height)), width, height, scale)
        stack.callback(x.close)
        # ben has windows too (off-screen), so that his session window shows anna's screen.
        ben = Client(work / "ben", "ben@ad", x, work / "ben.log")
        stack.callback(ben.close)
        x.minimize(x.window(MAIN_TITLE, ben.pid))
        carla = Client(work / "carla", "carla@ad", None, work / "carla.log")
        stack.callback(carla.close)
        seed_address_book(work / "anna", ben, carla)
        anna = Client(work / "anna", "anna@ad", x, work / "anna.log")
        stack.callback(anna.close)

        main = x.window(MAIN_TITLE, anna.pid)
        x.move(main, 24, 24)
        wait_for(
            "anna to discover ben and carla",
            lambda: (
                {p["alias"] for p in anna.cli("peers") if "discovery" in p["sources"]}
                >= {ben.alias, carla.alias}
            ),
        )
        tab_x, tab_y = DISCOVERY_TAB
        x.click(main, tab_x, tab_y + (WARNING_HEIGHT if anna.status["key_warning"] else 0))
        x.park_pointer()
        x.capture(out("main-window"))

        x.click(main, *INVITE_BUTTON)
        dialog = x.window("^Invite to a session$", anna.pid)
        x.type_into(dialog, ben.alias)
        # The completion list would hide the profile; Escape closes the list, not the dialog.
        x.key(dialog, "Escape")
        x.park_pointer()
        # On its own: with no window manager it has no frame to set it off the main window.
        x.capture(out("invite-dialog"))
        x.key(dialog, "Escape")
        wait_for("the invite dialog to close", lambda: not x.windows("^Invite to a session$"))

        sent = anna.cli(
            "invite", ben.alias, "--profile", "Full Access", "--confirm", ben.fingerprint
        )
        # ben's toast shares the screen and may cover anna's window on a small one.
        x.unmap(wait_for("ben's toast", lambda: _toast(x, ben.pid)))
        x.capture(out("outgoing-invitation"))
        session = ben.cli("accept", sent["id"])
        # A file ben sent, so both windows show a finished transfer.
        notes = work / "meeting-notes.pdf"
        notes.write_bytes(os.urandom(2_400_000))
        ben.cli("send-file", session["id"][:8], str(notes))
        host = x.window("^Session with ben@ad$", anna.pid)
        x.move(host, max(0, width - x.geometry(host).w - 24), 60)
        guest = x.window("^Session with anna@ad$", ben.pid)
        x.move(guest, 60, 120)
        x.capture(out("accept-session"))
        # On a small screen the two overlap; the guest's picture shows its window alone.
        x.minimize(host)
        x.capture(out("session-window"))
        for session in anna.cli("sessions"):
            anna.cli("end", session["id"])
        # Both windows stay to say the session ended: the guest's, with who ended it and when.
        wait_for("ben to see the session end", lambda: not ben.cli("sessions"))
        x.park_pointer()
        x.capture(out("session-ended"))
        # Out of the way for the next scenes.
        x.minimize(host)
        x.minimize(guest)

        anna_fp = ["--confirm", anna.fingerprint]
        invite = ben.cli("invite", anna.device_id, "--profile", "Default", *anna_fp)
        wait_for("anna's toast", lambda: _toast(x, anna.pid))
        x.capture(out("toast"))
        anna.cli("reject", invite["id"])

        request = carla.cli("connect", anna.device_id, *anna_fp)
        accept = x.window("^Connection request from carla@ad$", anna.pid)
        x.park_pointer()
        x.capture(out("accept-request"))
        anna.cli("reject", request["id"])
        x.minimize(accept)

        x.click(main, *SETTINGS_BUTTON)
        settings = x.window("^Settings$", anna.pid)
        x.park_pointer()
        x.capture(out("settings"))
        x.key(settings, "Escape")
        x.minimize(main)

        # A first start on a desktop without a keyring.
        dora = Client(work / "dora", "dora@ad", x, work / "dora.log", keyring=False)
        stack.callback(dora.close)
        x.window(MAIN_TITLE, dora.pid)
        x.park_pointer()
        x.capture(out("first-run-no-keyring"))


def _toast(x: Display, pid: int) -> int | None:
    """The toast: the client's visible window at the screen's bottom-right."""
    for wid in x.windows("", pid):
        g = x.geometry(wid)
        if g.x + g.w > x.width - 40 and g.y + g.h > x.height - 40 and g.x > 0:
            return wid
    return None


@contextmanager
def temporary_folder(keep: bool) -> Iterator[Path]:
    """Homes and logs of one size; kept when asked to or when a scene failed."""
    path = Path(tempfile.mkdtemp(prefix="adshots."))
    try:
        yield path
    except BaseException:
        keep = True
        raise
    finally:
        if keep:
            print(f"homes and logs kept in {path}")
        else:
            shutil.rmtree(path, ignore_errors=True)


def _reexec_isolated(keyring: bool) -> None:
    """Run again in a network namespace of our own (as root) with only loopback, so discovery
    finds these three clients and nothing else on 127.0.0.1, and inside a private D-Bus
    session with an unlocked, throwaway gnome-keyring."""
    if os.environ.get(_ISOLATED_FLAG):
        return
    steps: list[str] = []
    prefix: list[str] = []
    if os.geteuid() == 0 and shutil.which("unshare") and shutil.which("ip"):
        prefix = ["unshare", "--net", "--"]
        steps.append("ip link set lo up")
    else:
        print("screenshots: not root; other clients on 127.0.0.1 may show in Discovery")
    data = tempfile.mkdtemp(prefix="adshots-keyring.")
    inner = 'exec "$@"'
    if keyring and shutil.which("dbus-run-session") and shutil.which("gnome-keyring-daemon"):
        inner = (
            "exec dbus-run-session -- sh -c "
            '\'eval "$(printf screenshots | gnome-keyring-daemon --unlock --components=secrets)"'
            ' >/dev/null; exec "$@"\' sh "$@"'
        )
    script = "; ".join([*steps, inner])
    env = {**os.environ, _ISOLATED_FLAG: "1", "XDG_DATA_HOME": data}
    cmd = [*prefix, "sh", "-c", script, "sh", sys.executable, *sys.argv]
    code = subprocess.run(cmd, env=env, check=False).returncode
    shutil.rmtree(data, ignore_errors=True)
    sys.exit(code)


def _size(text: str) -> tuple[int, int, int]:
    """'1920x1080' or '1920x1080@2' as (width, height, scale)."""
    size, _, scale = text.partition("@")
    width, _, height = size.partition("x")
    return int(width), int(height), int(scale or "1")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    parser.add_argument(
        "--size",
        action="append",
        metavar="WxH[@S]",
        help="only this size, at Qt scale factor S (default 1) (repeatable)",
    )
    parser.add_argument("--keep", action="store_true", help="keep the homes and logs")
    parser.add_argument(
        "--no-keyring", action="store_true", help="keys in files (the app shows a warning)"
    )
    args = parser.parse_args(argv)
    _reexec_isolated(keyring=not args.no_keyring)
    for tool in ("Xvfb", "xdotool", "/usr/bin/import"):
        if shutil.which(tool) is None:
            print(f"screenshots: {tool} is missing; run scripts/bootstrap.sh", file=sys.stderr)
            return 2
    sizes = SIZES
    if args.size:
        sizes = tuple(_size(s) for s in args.size)
    args.out.mkdir(parents=True, exist_ok=True)
    for width, height, scale in sizes:
        try:
            with temporary_folder(args.keep) as work:
                shoot_size(width, height, args.out, work, scale)
        except SceneError as exc:
            print(f"screenshots: {exc}", file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
