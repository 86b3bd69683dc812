"""The composition root: builds every object of a running client and owns start and stop.

Nothing else creates long-lived objects; collaborators are passed in through constructors.
compose.py builds the services and the Client in front of them; desktop_adapters.py picks
how this desktop is captured and driven.
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

from anydesk_invite.compose import compose_client

# Services, network and storage load with this module. A headless client loads it before Qt
# (PySide6 reads the source of every module imported after it, its __feature__ check); a GUI
# client loads it behind its first window (ui/first_window.py).
from anydesk_invite.core.alias import default_alias_name
from anydesk_invite.core.clock import SystemClock
from anydesk_invite.core.policy import DiscoveryMode
from anydesk_invite.core.wide_area import WideAreaSettings
from anydesk_invite.desktop_adapters import (
    desktop_adapters,
    input_sink,
    invitation_notices,
    screen_source,
)
from anydesk_invite.logs import setup_logging
from anydesk_invite.net.discovery import Discovery
from anydesk_invite.net.identity import Identity, IdentityError
from anydesk_invite.net.interfaces import default_lan_addresses, list_addresses
from anydesk_invite.net.limits import Limits
from anydesk_invite.net.network import ChannelListener, TlsNetwork
from anydesk_invite.net.wide_area import WideAreaDiscovery
from anydesk_invite.options import Options
from anydesk_invite.services.client import Client
from anydesk_invite.services.control import AlreadyRunning, ControlServer
from anydesk_invite.services.control_commands import ControlCommands
from anydesk_invite.services.sessions.feature_set import SessionFeatures
from anydesk_invite.services.trust import PinnedTrust
from anydesk_invite.services.views import Direction, InvitationView
from anydesk_invite.storage.db import Database
from anydesk_invite.storage.errors import DatabaseError
from anydesk_invite.storage.home import Home, HomeError
from anydesk_invite.storage.keystore import KeyStore, KeyStoreError
from anydesk_invite.storage.policy_watch import PolicySources, PolicyWatcher
from anydesk_invite.storage.settings import StoredSettings
from anydesk_invite.storage.tsig_secret import TsigSecretError, TsigSecretStore, check_secret

if TYPE_CHECKING:
    from PySide6.QtWidgets import QWidget

    from anydesk_invite.services.notices import InvitationNotices
    from anydesk_invite.ui.first_window import FirstWindow
    from anydesk_invite.ui.shell import Shell

_log = logging.getLogger("anydesk_invite")

HEADLESS_CANNOT_DRAW = "the host runs without a window (headless) and cannot show drawings"


EXPOSE_WAIT = 1.0
"""Seconds start-up waits at most for the main window to be on screen before going on."""


async def _until_exposed(window: QWidget) -> None:
    """Let Qt's event loop run until ``window`` is on screen and painted (at most EXPOSE_WAIT
    seconds), so that what starts behind it does not hold up its first paint."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + EXPOSE_WAIT
    while window.isVisible() and loop.time() < deadline:
        handle = window.windowHandle()
        if handle is not None and handle.isExposed():
            break
        await asyncio.sleep(0.005)
    await asyncio.sleep(0)  # one more turn: the exposed window paints


def _cannot_start(reason: str) -> int:
    """Say why the client cannot start, where a person sees it, and end the application."""
    from anydesk_invite.ui import qt_loop

    _log.error("cannot start: %s", reason)
    print(f"anydesk-invite: cannot start: {reason}", file=sys.stderr)
    qt_loop.quit_application()
    return 1


async def run_client(options: Options, first: FirstWindow | None = None) -> int:
    """Build a client (GUI, or headless) and run it until it is told to quit.

    Runs on the qasync loop that cli.run_client sets up; quits the application when done.
    ``first``: the main window cli.run_client already showed, which the Shell takes over.
    """
    import getpass
    import socket

    from anydesk_invite.desktop.clipboard import QtClipboard
    from anydesk_invite.desktop.photo import QtJpeg
    from anydesk_invite.desktop.system_info import DesktopSystemInfo
    from anydesk_invite.desktop.video_on_demand import VideoOnDemand
    from anydesk_invite.ui import qt_loop
    from anydesk_invite.ui.shell import Shell

    try:
        home = Home.resolve(str(options.home))
    except HomeError as exc:
        return _cannot_start(str(exc))
    setup_logging(home.log_path, options.verbose)
    if first is not None:
        translator = first.translator
        _log.info("UI language: %s", translator.language() if translator else "en (source)")
    elif not options.headless:
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
    tsig_store = TsigSecretStore(home.path)
    try:
        _store_wide_area_options(options, db, tsig_store)
    except (ValueError, TsigSecretError, OSError) as exc:
        db.close()
        return _cannot_start(f"DNS discovery settings: {exc}")
    # Settings come in later, from the client (the policy may replace them): off until then.
    wide_area = (
        WideAreaDiscovery(
            WideAreaSettings(), None, identity.fingerprint, list(interfaces),
            tag=options.instance_tag,
        )
        if interfaces
        else None
    )  # fmt: skip
    jpeg = QtJpeg()
    video = VideoOnDemand()  # PyAV loads behind the main window, or on first use
    adapters = await desktop_adapters(home.path, os.environ)
    desktop = adapters.desktop
    features = SessionFeatures.build(
        clock,
        DesktopSystemInfo(),
        clipboard=QtClipboard(),
        screen=adapters.screen
        if adapters.screen is not None or adapters.wayland
        else screen_source(),
        input_sink=adapters.input_sink if adapters.wayland else input_sink(),
        photo=jpeg if jpeg.available() else None,
        video=video,
    )
    features.screen.unavailable = adapters.screen_problem
    if options.headless:
        # Strokes are shown by the window's overlay, which a headless client has not.
        features.drawing.display_problem = HEADLESS_CANNOT_DRAW

    network = TlsNetwork()
    client = compose_client(
        identity=identity,
        db=db,
        clock=clock,
        wall=time.time,
        policy=lambda: watcher.policy,
        trust=trust,
        features=features,
        desktop=desktop,
        interfaces=tuple(interfaces),
        discovery=discovery,
        discovery_mode=mode if isinstance(mode, DiscoveryMode) else DiscoveryMode.ON,
        key_location=stored.location.value,
        key_warning=stored.warning,
        home=str(home.path),
        default_alias=default_alias_name(socket.gethostname(), getpass.getuser()),
        invitation_lifetime=options.test_invitation_lifetime,
        wide_area=wide_area,
        tsig_store=tsig_store,
        network=network,
    )
    if options.alias:
        # Before listening, so discovery announces the new alias from the start.
        await client.update_settings(dataclasses.replace(client.settings(), alias=options.alias))
    if options.incoming_folder:
        client.set_incoming_folder(options.incoming_folder)
    trust.warning.connect(client.warning.emit)
    listener: ChannelListener | None = None
    tasks: set[asyncio.Task[None]] = set()

    def spawn(coro: Awaitable[None]) -> None:
        async def run() -> None:
            await coro

        t = asyncio.get_running_loop().create_task(run())
        tasks.add(t)
        t.add_done_callback(tasks.discard)

    watcher.changed.connect(lambda p: spawn(client.policy_changed(p)))
    if options.test_auto_accept:
        _log.warning("test option: every invitation and connection request is accepted at once")
        answered: set[str] = set()

        def auto_accept(view: InvitationView) -> None:
            # Once per invitation: an update re-announces it, and the first accept stands.
            if view.direction is Direction.INCOMING and view.invitation_id not in answered:
                answered.add(view.invitation_id)
                spawn(_accept_at_once(client, view.invitation_id))

        client.invitation_received.connect(auto_accept)
    stop = asyncio.Event()
    shell: Shell | None = None
    notices: InvitationNotices | None = None
    serving = False
    control = ControlServer(
        ControlCommands(client, on_raise=lambda: shell.raise_window() if shell else None),
        home.control_socket_path,
    )
    try:
        try:
            await control.start()
        except AlreadyRunning:
            print(f"anydesk-invite is already running for home {home.path}", file=sys.stderr)
            return 2
        serving = True
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: loop.call_soon_threadsafe(stop.set))
        if not options.headless:
            # The window first; listening, discovery and the rest come up behind it, and the
            # status line shows them as they arrive (bench/startup.py measures this).
            shell = Shell(client, on_quit=stop.set, first=first)
            shell.show()
            await _until_exposed(shell.window)
            if adapters.wayland and not os.environ.get("DISPLAY"):
                # No XWayland: the toast cannot place itself, so the desktop tells too.
                notices = await invitation_notices(client)
        listener = network.listener(
            identity, lambda: client.alias, trust, client.on_channel, Limits()
        )
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
        if not await asyncio.to_thread(video.check):  # off the event loop: the window stays live
            _log.warning("H.264 is not available in this FFmpeg: video streams will fail")
        if options.connect_target is not None:
            digits, fingerprint = options.connect_target
            if shell is not None:
                shell.window.connect_edit.setText(digits)
            spawn(_connect_from_link(client, digits, fingerprint))
        await stop.wait()
        return 0
    finally:
        if notices is not None:
            await notices.close()
        if shell is not None:
            shell.close()
        await control.close()
        if serving:
            # Only the client that served the socket removes the runtime directory.
            home.remove_runtime_dir()
        await client.stop()
        if desktop is not None:
            await desktop.release()
        adapters.close()
        if listener is not None:
            await listener.stop()
        await watcher.stop()
        for t in list(tasks):
            t.cancel()
        with contextlib.suppress(Exception):
            db.close()
        qt_loop.quit_application()


def _store_wide_area_options(options: Options, db: Database, store: TsigSecretStore) -> None:
    """Keep the DNS discovery settings given on the command line, and the secret read from
    --tsig-secret-file (in the keyring or the home's 0600 file, never the database)."""
    stored = db.settings.get(StoredSettings.WIDE_AREA)
    if options.wide_area_changes:
        changed = dataclasses.replace(stored, **dict(options.wide_area_changes))
        stored = changed.checked()
        db.settings.set(StoredSettings.WIDE_AREA, stored)
    if options.tsig_secret_file:
        if not stored.key_name:
            raise ValueError("--tsig-secret-file needs a key name (--tsig-key NAME)")
        with open(options.tsig_secret_file, encoding="utf-8", errors="replace") as f:
            text = f.read(4096)
        lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
        if not lines:
            raise TsigSecretError(f"{options.tsig_secret_file} is empty")
        store.set(stored.key_name, check_secret(lines[0].removeprefix("secret")))


async def _accept_at_once(client: Client, invitation_id: str) -> None:
    """``--test-auto-accept``: accept as a user clicking Accept would; a failure is logged."""
    from anydesk_invite.services.facade import ActionRefused

    try:
        await client.accept(invitation_id)
    except (ActionRefused, TimeoutError) as exc:
        _log.warning("auto-accept of %s: %s", invitation_id[:8], exc)


async def _connect_from_link(client: Client, digits: str, fingerprint: str) -> None:
    """Send the connection request a connect link asked for; a refusal is logged and shown."""
    from anydesk_invite.services.facade import ActionRefused

    try:
        await client.connect(digits, confirm_fingerprint=fingerprint)
    except ActionRefused as exc:
        _log.warning("connect link: %s", exc)
        client.warning.emit(f"Connect to {digits}: {exc}")
