"""The SQLite database: schema migrations, each repository, settings, and crash safety."""

from __future__ import annotations

import hashlib
import signal
import sqlite3
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from anydesk_invite.core.alias import Alias, AliasError
from anydesk_invite.core.ids import DeviceId
from anydesk_invite.core.invitation import Direction
from anydesk_invite.core.permissions import Permission, PermissionProfile
from anydesk_invite.core.policy import AcceptFrom, DiscoveryMode
from anydesk_invite.storage.contacts import AddressEntry, Favorite
from anydesk_invite.storage.db import Database
from anydesk_invite.storage.errors import (
    DatabaseError,
    SchemaTooNewError,
    SettingError,
    StorageValueError,
)
from anydesk_invite.storage.history import RecentKind, RecentSession
from anydesk_invite.storage.migrations import SCHEMA_VERSION
from anydesk_invite.storage.pins import PinConflictError, PinnedPeer
from anydesk_invite.storage.settings import StoredSettings
from anydesk_invite.storage.values import parse_manual_address


def fingerprint(name: str) -> bytes:
    return hashlib.sha256(name.encode()).digest()


def device(name: str) -> DeviceId:
    return DeviceId.from_fingerprint(fingerprint(name))


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    database = Database.open(tmp_path / "t.db")
    yield database
    database.close()


# --- opening and migrations -------------------------------------------------------------


def test_new_database_is_at_the_current_schema_in_wal_mode(tmp_path: Path) -> None:
    with Database.open(tmp_path / "t.db") as database:
        assert database.schema_version == SCHEMA_VERSION
    conn = sqlite3.connect(tmp_path / "t.db")
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    conn.close()


def test_data_survives_closing_and_opening_again(tmp_path: Path) -> None:
    with Database.open(tmp_path / "t.db") as database:
        database.address_book.add(AddressEntry(device("a"), Alias("anna"), note="hi"))
    with Database.open(tmp_path / "t.db") as database:
        entry = database.address_book.get(device("a"))
    assert entry == AddressEntry(device("a"), Alias("anna"), note="hi")


def test_database_from_a_newer_version_is_refused_and_left_alone(tmp_path: Path) -> None:
    Database.open(tmp_path / "t.db").close()
    conn = sqlite3.connect(tmp_path / "t.db")
    conn.execute("PRAGMA user_version = 99")
    conn.close()
    with pytest.raises(SchemaTooNewError, match="newer version"):
        Database.open(tmp_path / "t.db")
    conn = sqlite3.connect(tmp_path / "t.db")
    assert conn.execute("PRAGMA user_version").fetchone()[0] == 99
    conn.close()


def test_each_migration_step_is_one_transaction(tmp_path: Path) -> None:
    first = ("CREATE TABLE a (x INTEGER)",)
    broken = ("CREATE TABLE b (y INTEGER)", "CREATE TABLE oops (")
    with pytest.raises(DatabaseError):
        Database.open(tmp_path / "t.db", migrations=[first, broken])
    conn = sqlite3.connect(tmp_path / "t.db")
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert conn.execute("PRAGMA user_version").fetchone()[0] == 1
    conn.close()
    assert "a" in tables
    assert "b" not in tables

    fixed = ("CREATE TABLE b (y INTEGER)",)
    with Database.open(tmp_path / "t.db", migrations=[first, fixed]) as database:
        assert database.schema_version == 2


def test_a_file_that_is_not_a_database_is_refused_and_kept(tmp_path: Path) -> None:
    path = tmp_path / "t.db"
    path.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(DatabaseError, match="cannot be read"):
        Database.open(path)
    assert path.read_bytes() == b"this is not sqlite" * 100


def test_committed_rows_survive_sigkill_of_the_writer(tmp_path: Path) -> None:
    path = tmp_path / "crash.db"
    writer = textwrap.dedent(
        f"""
        import hashlib, sys
        from anydesk_invite.core.ids import DeviceId
        from anydesk_invite.core.invitation import Direction
        from anydesk_invite.storage.db import Database
        from anydesk_invite.storage.history import RecentKind, RecentSession
        peer = DeviceId.from_fingerprint(hashlib.sha256(b"p").digest())
        db = Database.open({str(path)!r}, keep_recent=10**9)
        i = 0
        while True:
            i += 1
            db.recent_sessions.record(RecentSession(
                at=float(i), direction=Direction.OUTGOING, kind=RecentKind.SESSION,
                peer_id=peer, peer_alias=None, peer_fingerprint=None, outcome=f"row-{{i}}"))
            print(i, flush=True)
        """
    )
    proc = subprocess.Popen([sys.executable, "-c", writer], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    reported: list[int] = []
    for line in proc.stdout:
        reported.append(int(line))
        if len(reported) >= 300:
            break
    proc.send_signal(signal.SIGKILL)
    rest, _ = proc.communicate(timeout=30)
    reported.extend(int(x) for x in rest.split())
    assert proc.returncode == -signal.SIGKILL

    with Database.open(path) as database:
        assert database.integrity_check() == "ok"
        stored = {r.outcome for r in database.recent_sessions.list(limit=10**9)}
    assert {f"row-{i}" for i in reported} <= stored


# --- address book -----------------------------------------------------------------------


def test_address_book_add_get_update_remove(db: Database) -> None:
    book = db.address_book
    entry = AddressEntry(
        device("a"),
        Alias("anna"),
        display_name="Anna's laptop",
        tags=("work", "home"),
        manual_address="192.168.1.5:7070",
        fingerprint=fingerprint("a"),
        note="3rd floor",
    )
    book.add(entry)
    assert book.get(device("a")) == entry
    changed = AddressEntry(device("a"), Alias("anna2"), tags=("home",))
    book.update(changed)
    assert book.get(device("a")) == changed
    assert book.remove(device("a")) is True
    assert book.get(device("a")) is None
    assert book.remove(device("a")) is False


def test_adding_an_id_twice_is_refused_and_keeps_the_first(db: Database) -> None:
    db.address_book.add(AddressEntry(device("a"), note="first"))
    with pytest.raises(StorageValueError, match="already"):
        db.address_book.add(AddressEntry(device("a"), note="second"))
    entry = db.address_book.get(device("a"))
    assert entry is not None
    assert entry.note == "first"


def test_updating_an_id_not_in_the_book_is_refused(db: Database) -> None:
    with pytest.raises(StorageValueError, match="not in the address book"):
        db.address_book.update(AddressEntry(device("a")))
    assert db.address_book.list() == []


def test_address_book_lists_by_name(db: Database) -> None:
    db.address_book.add(AddressEntry(device("z"), display_name="Zoe"))
    db.address_book.add(AddressEntry(device("b"), Alias("bob")))
    db.address_book.add(AddressEntry(device("a"), display_name="adam"))
    assert [e.device_id for e in db.address_book.list()] == [device("a"), device("b"), device("z")]


def test_find_by_alias_ignores_case(db: Database) -> None:
    db.address_book.add(AddressEntry(device("a"), Alias("Anna")))
    db.address_book.add(AddressEntry(device("b"), Alias("bob")))
    found = db.address_book.find_by_alias("ANNA@ad")
    assert [e.device_id for e in found] == [device("a")]
    assert db.address_book.find_by_alias(Alias("anna"))[0].device_id == device("a")
    assert db.address_book.find_by_alias("carol") == []


def test_find_by_alias_returns_every_peer_sharing_it(db: Database) -> None:
    db.address_book.add(AddressEntry(device("a"), Alias("pc")))
    db.address_book.add(AddressEntry(device("b"), Alias("PC")))
    assert {e.device_id for e in db.address_book.find_by_alias("pc")} == {device("a"), device("b")}


def test_find_by_an_invalid_alias_says_why(db: Database) -> None:
    with pytest.raises(AliasError):
        db.address_book.find_by_alias("no spaces@ad")


@pytest.mark.parametrize(
    ("text", "normal"),
    [
        ("192.168.1.5:7070", "192.168.1.5:7070"),
        ("  Host-1.LAN:1 ", "host-1.lan:1"),
        ("[fe80::1]:65535", "[fe80::1]:65535"),
        ("[::1]:8000", "[::1]:8000"),
        ("pc:443", "pc:443"),
    ],
)
def test_manual_address_is_accepted_in_normal_form(text: str, normal: str) -> None:
    assert parse_manual_address(text) == normal
    assert AddressEntry(device("a"), manual_address=text).manual_address == normal


@pytest.mark.parametrize(
    "text",
    [
        "host",
        "host:0",
        "host:65536",
        "host:-1",
        "host:http",
        ":80",
        "fe80::1:80",
        "[fe80::1]80",
        "[nothex]:80",
        "bad_name:80",
        "-lead:80",
        "300.1.1.1:80",
        "a..b:80",
        "host:８０",
    ],
)
def test_invalid_manual_address_is_refused(text: str) -> None:
    with pytest.raises(StorageValueError):
        AddressEntry(device("a"), manual_address=text)


def test_tags_are_trimmed_and_deduplicated(db: Database) -> None:
    entry = AddressEntry(device("a"), tags=(" work", "Work", "home "))
    assert entry.tags == ("work", "home")
    db.address_book.add(entry)
    stored = db.address_book.get(device("a"))
    assert stored is not None
    assert stored.tags == ("work", "home")


@pytest.mark.parametrize("tag", ["", "  ", "x" * 41, "a\nb"])
def test_invalid_tag_is_refused(tag: str) -> None:
    with pytest.raises(StorageValueError):
        AddressEntry(device("a"), tags=(tag,))


def test_fingerprint_of_the_wrong_length_is_refused() -> None:
    with pytest.raises(StorageValueError, match="32 bytes"):
        AddressEntry(device("a"), fingerprint=b"short")


# --- favorites --------------------------------------------------------------------------


def test_favorites_keep_the_order_they_were_added_in(db: Database) -> None:
    for name in ("c", "a", "b"):
        db.favorites.add(device(name))
    assert [f.device_id for f in db.favorites.list()] == [device("c"), device("a"), device("b")]


def test_adding_a_favorite_again_refreshes_its_cache(db: Database) -> None:
    db.favorites.add(device("a"), Alias("old"), fingerprint("a"))
    db.favorites.add(device("b"))
    db.favorites.add(device("a"), Alias("new"))
    assert db.favorites.list() == [
        Favorite(device("a"), Alias("new"), fingerprint("a")),
        Favorite(device("b")),
    ]


def test_removing_a_favorite(db: Database) -> None:
    db.favorites.add(device("a"))
    assert device("a") in db.favorites
    assert db.favorites.remove(device("a")) is True
    assert device("a") not in db.favorites
    assert db.favorites.remove(device("a")) is False
    assert db.favorites.list() == []


# --- recent sessions --------------------------------------------------------------------


def _recent(at: float, peer: str = "a", outcome: str = "accepted") -> RecentSession:
    return RecentSession(
        at=at,
        direction=Direction.INCOMING,
        kind=RecentKind.INVITATION,
        peer_id=device(peer),
        peer_alias=Alias(peer),
        peer_fingerprint=fingerprint(peer),
        outcome=outcome,
        duration=12.5,
    )


def test_recent_sessions_are_listed_newest_first_up_to_the_limit(db: Database) -> None:
    for at in (100.0, 300.0, 200.0):
        db.recent_sessions.record(_recent(at))
    assert [r.at for r in db.recent_sessions.list()] == [300.0, 200.0, 100.0]
    assert [r.at for r in db.recent_sessions.list(limit=2)] == [300.0, 200.0]
    assert db.recent_sessions.list()[0] == _recent(300.0)


def test_last_time_per_peer(db: Database) -> None:
    db.recent_sessions.record(_recent(100.0, "a"))
    db.recent_sessions.record(_recent(500.0, "a"))
    db.recent_sessions.record(_recent(300.0, "b"))
    assert db.recent_sessions.last_time(device("a")) == 500.0
    assert db.recent_sessions.last_time(device("c")) is None
    assert db.recent_sessions.last_times() == {device("a"): 500.0, device("b"): 300.0}


def test_recent_sessions_keep_only_the_newest(tmp_path: Path) -> None:
    with Database.open(tmp_path / "t.db", keep_recent=5) as database:
        for at in range(20):
            database.recent_sessions.record(_recent(float(at)))
        assert [r.at for r in database.recent_sessions.list(limit=100)] == [
            19.0,
            18.0,
            17.0,
            16.0,
            15.0,
        ]


def test_negative_duration_is_refused() -> None:
    with pytest.raises(StorageValueError):
        RecentSession(1.0, Direction.OUTGOING, RecentKind.SESSION, device("a"), None, None, "x", -1)


# --- custom profiles --------------------------------------------------------------------


def test_custom_profiles_save_list_rename_delete(db: Database) -> None:
    perms = frozenset({Permission.CONTROL, Permission.DRAW})
    db.profiles.save(PermissionProfile("Support", perms))
    db.profiles.save(PermissionProfile("audit", frozenset()))
    assert db.profiles.list() == [
        PermissionProfile("audit", frozenset()),
        PermissionProfile("Support", perms),
    ]
    db.profiles.save(PermissionProfile("support", frozenset({Permission.CLIPBOARD})))
    assert db.profiles.list()[1].permissions == frozenset({Permission.CLIPBOARD})
    assert db.profiles.rename("SUPPORT", "Helpdesk").name == "Helpdesk"
    assert [p.name for p in db.profiles.list()] == ["audit", "Helpdesk"]
    assert db.profiles.delete("helpdesk") is True
    assert db.profiles.delete("helpdesk") is False
    assert [p.name for p in db.profiles.list()] == ["audit"]


def test_builtin_profile_names_cannot_be_saved(db: Database) -> None:
    with pytest.raises(StorageValueError, match="built-in"):
        db.profiles.save(PermissionProfile("full access", frozenset()))
    assert db.profiles.list() == []


def test_renaming_onto_an_existing_profile_is_refused(db: Database) -> None:
    db.profiles.save(PermissionProfile("a", frozenset()))
    db.profiles.save(PermissionProfile("b", frozenset({Permission.DRAW})))
    with pytest.raises(StorageValueError, match="exists already"):
        db.profiles.rename("a", "B")
    with pytest.raises(StorageValueError, match="no custom profile"):
        db.profiles.rename("zzz", "c")
    assert [p.name for p in db.profiles.list()] == ["a", "b"]


def test_renaming_a_profile_to_another_case_of_itself(db: Database) -> None:
    db.profiles.save(PermissionProfile("team", frozenset()))
    db.profiles.rename("team", "Team")
    assert [p.name for p in db.profiles.list()] == ["Team"]


# --- pinned peers -----------------------------------------------------------------------


def _pinned(name: str, first: float = 10.0, last: float = 10.0) -> PinnedPeer:
    return PinnedPeer(fingerprint(name), device(name), Alias(name), first, last)


def test_pinned_peer_found_by_fingerprint_and_by_id(db: Database) -> None:
    db.pinned_peers.pin(_pinned("a"))
    assert db.pinned_peers.get_by_fingerprint(fingerprint("a")) == _pinned("a")
    assert db.pinned_peers.get_by_device_id(device("a")) == _pinned("a")
    assert db.pinned_peers.get_by_fingerprint(fingerprint("b")) is None
    assert db.pinned_peers.get_by_device_id(device("b")) is None


def test_touch_moves_last_seen_forward_and_updates_the_alias(db: Database) -> None:
    db.pinned_peers.pin(_pinned("a"))
    assert db.pinned_peers.touch(fingerprint("a"), 50.0, Alias("renamed")) is True
    assert db.pinned_peers.touch(fingerprint("a"), 20.0) is True
    peer = db.pinned_peers.get_by_fingerprint(fingerprint("a"))
    assert peer == PinnedPeer(fingerprint("a"), device("a"), Alias("renamed"), 10.0, 50.0)
    assert db.pinned_peers.touch(fingerprint("b"), 50.0) is False


def test_pinning_again_keeps_first_seen(db: Database) -> None:
    db.pinned_peers.pin(_pinned("a", 10.0, 10.0))
    db.pinned_peers.pin(_pinned("a", 99.0, 99.0))
    peer = db.pinned_peers.get_by_fingerprint(fingerprint("a"))
    assert peer is not None
    assert (peer.first_seen, peer.last_seen) == (10.0, 99.0)


def test_another_key_under_a_pinned_id_is_refused(tmp_path: Path) -> None:
    db = Database.open(tmp_path / "t.db")
    db.pinned_peers.pin(_pinned("a"))
    # Searching for a real second key with a's ID takes ~1e9 tries: plant one in the file.
    raw = sqlite3.connect(tmp_path / "t.db")
    with raw:
        raw.execute(
            "UPDATE pinned_peers SET fingerprint = ? WHERE device_id = ?",
            (fingerprint("b"), device("a").digits),
        )
    raw.close()
    with pytest.raises(PinConflictError, match="another key"):
        db.pinned_peers.pin(_pinned("a"))
    assert db.pinned_peers.get_by_fingerprint(fingerprint("a")) is None
    db.close()


def test_a_pin_whose_id_does_not_derive_from_its_key_is_refused() -> None:
    with pytest.raises(StorageValueError, match="does not derive"):
        PinnedPeer(fingerprint("a"), device("b"), None, 1.0, 1.0)


def test_pinned_peers_list_most_recently_seen_first(db: Database) -> None:
    db.pinned_peers.pin(_pinned("a", 1.0, 1.0))
    db.pinned_peers.pin(_pinned("b", 1.0, 5.0))
    assert [p.device_id for p in db.pinned_peers.list()] == [device("b"), device("a")]
    assert db.pinned_peers.remove(fingerprint("b")) is True
    assert [p.device_id for p in db.pinned_peers.list()] == [device("a")]


# --- settings ---------------------------------------------------------------------------


def test_settings_have_defaults(db: Database) -> None:
    s = db.settings
    assert s.get(StoredSettings.ALIAS) is None
    assert s.get(StoredSettings.ACCEPT_FROM) is AcceptFrom.EVERYONE
    assert s.get(StoredSettings.DISCOVERY) is DiscoveryMode.ON
    assert s.get(StoredSettings.INTERFACES) == ()
    assert s.get(StoredSettings.DEFAULT_PROFILE) == "Default"
    assert s.get(StoredSettings.SEND_CLIPBOARD_DEFAULT) is False
    assert s.get(StoredSettings.KEEP_RUNNING_IN_BACKGROUND) is None
    assert s.get(StoredSettings.INVITATION_LIFETIME_FOR_TESTS) is None


def test_settings_are_kept_across_opening_again(tmp_path: Path) -> None:
    with Database.open(tmp_path / "t.db") as database:
        s = database.settings
        s.set(StoredSettings.ALIAS, Alias("me"))
        s.set(StoredSettings.ACCEPT_FROM, AcceptFrom.ADDRESS_BOOK)
        s.set(StoredSettings.DISCOVERY, DiscoveryMode.HIDDEN)
        s.set(StoredSettings.INTERFACES, ("127.0.0.1", "eth0"))
        s.set(StoredSettings.DEFAULT_PROFILE, "Screen Sharing")
        s.set(StoredSettings.SEND_CLIPBOARD_DEFAULT, True)
        s.set(StoredSettings.KEEP_RUNNING_IN_BACKGROUND, False)
        s.set(StoredSettings.INVITATION_LIFETIME_FOR_TESTS, 2.5)
    with Database.open(tmp_path / "t.db") as database:
        s = database.settings
        assert s.get(StoredSettings.ALIAS) == Alias("me")
        assert s.get(StoredSettings.ACCEPT_FROM) is AcceptFrom.ADDRESS_BOOK
        assert s.get(StoredSettings.DISCOVERY) is DiscoveryMode.HIDDEN
        assert s.get(StoredSettings.INTERFACES) == ("127.0.0.1", "eth0")
        assert s.get(StoredSettings.DEFAULT_PROFILE) == "Screen Sharing"
        assert s.get(StoredSettings.SEND_CLIPBOARD_DEFAULT) is True
        assert s.get(StoredSettings.KEEP_RUNNING_IN_BACKGROUND) is False
        assert s.get(StoredSettings.INVITATION_LIFETIME_FOR_TESTS) == 2.5


def test_reset_goes_back_to_the_default(db: Database) -> None:
    db.settings.set(StoredSettings.KEEP_RUNNING_IN_BACKGROUND, True)
    db.settings.reset(StoredSettings.KEEP_RUNNING_IN_BACKGROUND)
    assert db.settings.get(StoredSettings.KEEP_RUNNING_IN_BACKGROUND) is None


def test_invalid_setting_values_are_refused_and_the_old_one_kept(db: Database) -> None:
    db.settings.set(StoredSettings.INVITATION_LIFETIME_FOR_TESTS, 5.0)
    with pytest.raises(StorageValueError, match="invitation_lifetime_for_tests"):
        db.settings.set(StoredSettings.INVITATION_LIFETIME_FOR_TESTS, -1.0)
    with pytest.raises(StorageValueError, match="interfaces"):
        db.settings.set(StoredSettings.INTERFACES, ("bad name",))
    assert db.settings.get(StoredSettings.INVITATION_LIFETIME_FOR_TESTS) == 5.0


@pytest.mark.parametrize("stored", ['"maybe"', "{not json", "42"])
def test_a_damaged_stored_setting_says_which_and_is_kept(tmp_path: Path, stored: str) -> None:
    db = Database.open(tmp_path / "t.db")
    raw = sqlite3.connect(tmp_path / "t.db")
    with raw:
        raw.execute("INSERT INTO settings (key, value) VALUES ('accept_from', ?)", (stored,))
    with pytest.raises(SettingError, match="accept_from"):
        db.settings.get(StoredSettings.ACCEPT_FROM)
    assert raw.execute("SELECT value FROM settings").fetchone()[0] == stored
    raw.close()
    db.settings.set(StoredSettings.ACCEPT_FROM, AcceptFrom.NOBODY)
    assert db.settings.get(StoredSettings.ACCEPT_FROM) is AcceptFrom.NOBODY
    db.close()


def test_clients_opening_a_new_database_together_migrate_it_once(tmp_path: Path) -> None:
    def open_and_read(_: int) -> int:
        with Database.open(tmp_path / "t.db") as database:
            return database.schema_version

    with ThreadPoolExecutor(max_workers=6) as pool:
        versions = list(pool.map(open_and_read, range(6)))
    assert versions == [SCHEMA_VERSION] * 6
