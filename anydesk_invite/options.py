"""How a client was asked to start: the command line's answer, handed to app.run_client."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from anydesk_invite.core.policy import DiscoveryMode


@dataclass(frozen=True, slots=True)
class Options:
    """Start-up options of one client. Everything else comes from the home folder's settings."""

    home: Path
    """The home folder (identity, database, settings); one client runs per home."""
    interfaces: tuple[str, ...] = ()
    """Literal IP addresses to listen and announce on; empty means the settings' choice."""
    headless: bool = False
    verbose: bool = False
    discovery: DiscoveryMode | None = None
    """Overrides the settings for this run when given."""
    listen_port: int = 0
    """0 lets the system pick a free port."""
    test_invitation_lifetime: float | None = None
    """Test-only: a shorter invitation lifetime in seconds (never longer than the real one)."""
    test_auto_accept: bool = False
    """Test-only: accept every invitation and connection request at once, as a user clicking
    Accept would (what the conformance runner needs of a peer)."""
    instance_tag: str = ""
    """Test-only: appended to the zeroconf service name so parallel test clients differ."""
    alias: str = ""
    """When given (``name@ad``), becomes this device's alias and is kept in the settings."""
    incoming_folder: str = ""
    """When given (an absolute path), files from guests are saved there from now on (kept)."""
    connect_target: tuple[str, str] | None = None
    """From a connect link: (ID digits, fingerprint hex) to send a connection request to once
    the client is up."""
    wide_area_changes: tuple[tuple[str, object], ...] = ()
    """DNS discovery settings given on the command line, (field, value): stored, kept."""
    tsig_secret_file: str = ""
    """A file to read the TSIG secret from once; it is then kept in the keyring or home."""
