"""The composition root: builds every object of a running client and owns start and stop.

Nothing else creates long-lived objects; collaborators are passed in through constructors.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import logging.handlers
import os
import signal
import sys
import time
from collections.abc import Awaitable
from typing import TYPE_CHECKING

from anydesk_invite.core.alias import default_alias_name
from anydesk_invite.core.clock import SystemClock
from anydesk_invite.core.policy import DiscoveryMode
from anydesk_invite.options import Options

if TYPE_CHECKING:
    from anydesk_invite.services.client import Client
    from anydesk_invite.services.ports import InputSink, ScreenSource
    from anydesk_invite.ui.shell import Shell

_log = logging.getLogger("anydesk_invite")

HEADLESS_CANNOT_DRAW = "the host runs without a window (headless) and cannot show drawings"


def _input_sink() -> InputSink | None:
    """XTEST where Qt runs on X11; elsewhere (offscreen, Wayland) no injection at all."""
    from PySide6.QtGui import QGuiApplication

    from anydesk_invite.desktop.input import XTestInput

    if QGuiApplication.platformName() != "xcb":
        return None
    return XTestInput()


def _screen_source() -> ScreenSource:
    """X11 shared memory where Qt runs on X11 with one screen (~4x cheaper a grab than
    QScreen, and off the event loop); QScreen everywhere else."""
    from PySide6.QtGui import QGuiApplication

    from anydesk_invite.desktop.screen import QtScreens
    from anydesk_invite.desktop.x11_capture import CaptureUnavailable, ShmScreen

    if QGuiApplication.platformName() == "xcb" and len(QGuiApplication.screens()) == 1:
        try:
            return ShmScreen()
        except CaptureUnavailable as exc:
            _log.info("screen capture through QScreen: %s", exc)
    return QtScreens()


def _cannot_start(reason: str) -> int:
    """Say why the client cannot start, where a person sees it, and end the application."""
    from anydesk_invite.ui import qt_loop

    _log.error("cannot start: %s", reason)
    print(f"anydesk-invite: cannot start: {reason}", file=sys.stderr)
    qt_loop.quit_application()
    return 1


def _setup_logging(log_path: os.PathLike[str] | str, verbose: bool) -> None:
    root = logging.getLogger()
    root.setLevel(logging.DEBUG if verbose else logging.INFO)
    os.makedirs(os.path.dirname(os.fspath(log_path)), mode=0o700, exist_ok=True)
    fmt = logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    fh = logging.handlers.RotatingFileHandler(log_path, maxBytes=1_000_000, backupCount=3)
    fh.setFormatter(fmt)
    root.addHandler(fh)
    if verbose:
        sh = logging.StreamHandler(sys.stderr)
        sh.setFormatter(fmt)
        root.addHandler(sh)


async def run_client(options: Options) -> int:
    """Build a client (GUI, or headless) and run it until it is told to quit.

    Runs on the qasync loop that cli.run_client sets up; quits the application when done.
    """
    import getpass
    import socket

    from anydesk_invite.desktop.clipboard import QtClipboard
    from anydesk_invite.desktop.photo import QtJpeg
    from anydesk_invite.desktop.system_info import DesktopSystemInfo
    from anydesk_invite.desktop.video import PyAvVideo
    from anydesk_invite.net.channel import Listener
    from anydesk_invite.net.discovery import Discovery
    from anydesk_invite.net.identity import Identity, IdentityError
    from anydesk_invite.net.interfaces import default_lan_addresses, list_addresses
    from anydesk_invite.services.client import Client
    from anydesk_invite.services.control import AlreadyRunning, ControlServer
    from anydesk_invite.services.links import Links
    from anydesk_invite.services.sessions.service import SessionFeatures, SessionService
    from anydesk_invite.services.trust import PinnedTrust
    from anydesk_invite.storage.db import Database, DatabaseError, StoredSettings
    from anydesk_invite.storage.home import Home, HomeError
    from anydesk_invite.storage.keystore import KeyStore, KeyStoreError
    from anydesk_invite.storage.policy_files import PolicySources, PolicyWatcher
    from anydesk_invite.ui import qt_loop
    from anydesk_invite.ui.shell import Shell

    try:
        home = Home.resolve(str(options.home))
    except HomeError as exc:
        return _cannot_start(str(exc))
    _setup_logging(home.log_path, options.verbose)
    if not options.headless:
        from PySide6.QtCore import QCoreApplication

        from anydesk_invite.ui.i18n import install_translator

        # Before any widget exists: widgets translate their texts when they are built.
        qt_app = QCoreApplication.instance()
        translator = install_translator(qt_app) if qt_app is not None else None
        _log.info("UI language: %s", translator.language() if translator else "en (source)")
    try:
        db = Database.open(home.db_path)
    except DatabaseError as exc:
        return _cannot_start(f"the database {home.db_path}: {exc}")
    try:
        stored = await KeyStore(home).load_or_create()
        identity = Identity.from_private_bytes(stored.private_key)
    except (KeyStoreError, IdentityError) as exc:
        db.close()
        return _cannot_start(f"the device key: {exc}")
    if stored.warning:
        _log.warning("%s", stored.warning)
    watcher = PolicyWatcher(PolicySources.for_home(home.path, os.environ.get("ADINVITE_POLICY")))
    if watcher.policy.broken:
        _log.error("custom client settings: %s", watcher.policy.broken)
    interfaces = options.interfaces or db.settings.get(StoredSettings.INTERFACES)
    if not interfaces:
        interfaces = tuple(default_lan_addresses(list_addresses()))
    mode = options.discovery or db.settings.get(StoredSettings.DISCOVERY)
    trust = PinnedTrust(db)
    clock = SystemClock()
    discovery = (
        Discovery(list(interfaces), identity.fingerprint, instance_tag=options.instance_tag)
        if interfaces
        else None
    )
    jpeg = QtJpeg()
    features = SessionFeatures.build(
        clock,
        DesktopSystemInfo(),
        clipboard=QtClipboard(),
        screen=_screen_source(),
        input_sink=_input_sink(),
        photo=jpeg if jpeg.available() else None,
        video=PyAvVideo() if PyAvVideo.available() else None,
    )
    if options.headless:
        # Strokes are shown by the window's overlay, which a headless client has not.
        features.drawing.display_problem = HEADLESS_CANNOT_DRAW

    def sessions_factory(links: Links) -> SessionService:
        return SessionService(links, clock, lambda: watcher.policy, features)

    client = Client(
        identity=identity,
        db=db,
        clock=clock,
        wall=time.time,
        policy=lambda: watcher.policy,
        trust=trust,
        sessions_factory=sessions_factory,
        interfaces=tuple(interfaces),
        discovery=discovery,
        discovery_mode=mode if isinstance(mode, DiscoveryMode) else DiscoveryMode.ON,
        listen_port=options.listen_port,
        key_location=stored.location.value,
        key_warning=stored.warning,
        home=str(home.path),
        default_alias=default_alias_name(socket.gethostname(), getpass.getuser()),
        invitation_lifetime=options.test_invitation_lifetime,
    )
    if options.alias:
        # Before listening, so discovery announces the new alias from the start.
        await client.update_settings(dataclasses.replace(client.settings(), alias=options.alias))
    if options.incoming_folder:
        client.set_incoming_folder(options.incoming_folder)
    trust.warning.connect(client.warning.emit)
    listener = Listener(identity, lambda: client.alias, trust, client.on_channel)
    tasks: set[asyncio.Task[None]] = set()

    def spawn(coro: Awaitable[None]) -> None:
        async def run() -> None:
            await coro

        t = asyncio.get_running_loop().create_task(run())
        tasks.add(t)
        t.add_done_callback(tasks.discard)

    watcher.changed.connect(lambda p: spawn(client.policy_changed(p)))
    stop = asyncio.Event()
    shell: Shell | None = None
    control = ControlServer(
        client, home.control_socket_path, on_raise=lambda: shell.raise_window() if shell else None
    )
    try:
        try:
            await control.start()
        except AlreadyRunning:
            print(f"anydesk-invite is already running for home {home.path}", file=sys.stderr)
            return 2
        if interfaces:
            try:
                client.set_listening(await listener.start(list(interfaces), options.listen_port))
            except OSError as exc:
                _log.error("cannot listen on %s: %s", ", ".join(interfaces), exc)
        else:
            _log.warning("no private LAN interface found; use --interface ADDR")
        await client.start()
        watcher.start()
        _log.info(
            "started %s (%s) listening on %s",
            identity.device_id.grouped(),
            client.alias,
            client.status().listen_addresses,
        )
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: loop.call_soon_threadsafe(stop.set))
        if not options.headless:
            shell = Shell(client, on_quit=stop.set)
            shell.show()
        if options.connect_target is not None:
            digits, fingerprint = options.connect_target
            if shell is not None:
                shell.window.connect_edit.setText(digits)
            spawn(_connect_from_link(client, digits, fingerprint))
        await stop.wait()
        return 0
    finally:
        if shell is not None:
            shell.close()
        await control.close()
        await client.stop()
        await listener.stop()
        await watcher.stop()
        for t in list(tasks):
            t.cancel()
        with contextlib.suppress(Exception):
            db.close()
        qt_loop.quit_application()


async def _connect_from_link(client: Client, digits: str, fingerprint: str) -> None:
    """Send the connection request a connect link asked for; a refusal is logged and shown."""
    from anydesk_invite.services.facade import ActionRefused

    try:
        await client.connect(digits, confirm_fingerprint=fingerprint)
    except ActionRefused as exc:
        _log.warning("connect link: %s", exc)
        client.warning.emit(f"Connect to {digits}: {exc}")
