"""Switches each security protection off in turn and shows its test failing.

For every mutant: copy anydesk_invite/ and tests/ into a temporary folder, replace one protection
in the copy's source with code that lets everything through, run the matching tests/security test
against that copy, and record whether it failed (it must). The working tree is never touched.
Prints a table: protection, test, result. Exit code 0 only if every mutant was caught.

    .venv/bin/python scripts/security_mutants.py [-k SUBSTRING]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PKG = "anydesk_invite"


@dataclass(frozen=True)
class Mutant:
    protection: str
    path: str
    old: str
    new: str
    test: str


MUTANTS = [
    Mutant(
        "discovery: ID must derive from the record's key",
        f"{PKG}/net/records.py",
        "if DeviceId.from_fingerprint(fingerprint) != device_id:",
        "if False:",
        "test_identity.py::test_discovery_drops_a_record_whose_id_does_not_derive_from_its_key",
    ),
    Mutant(
        "discovery: ID must derive from the record's key",
        f"{PKG}/net/records.py",
        "if DeviceId.from_fingerprint(fingerprint) != device_id:",
        "if False:",
        "test_identity.py::test_a_discovery_record_with_a_victims_id_and_alias_and_another_key_"
        "is_never_merged",
    ),
    Mutant(
        "directory: discovered addresses kept by key, not by ID",
        f"{PKG}/services/directory.py",
        "d = found.get(fingerprint)\n            if d is not None:\n                out.extend",
        "d = next((x for x in found.values()"
        " if x.device_id == DeviceId.from_fingerprint(fingerprint)), None)\n"
        "            if d is not None:\n                out.extend",
        "test_identity.py::test_a_colliding_discovery_record_never_adds_its_address_to_the_pinned_"
        "victim",
    ),
    Mutant(
        "dialler checks the certificate fingerprint",
        f"{PKG}/net/handshake.py",
        "if expected_fingerprint is not None and not hmac.compare_digest(cert_fp, "
        "expected_fingerprint):",
        "if False:",
        "test_identity.py::test_a_relaying_man_in_the_middle_with_another_certificate_gets_no_"
        "invitation_bytes",
    ),
    Mutant(
        "dialler checks the certificate fingerprint",
        f"{PKG}/net/handshake.py",
        "if expected_fingerprint is not None and not hmac.compare_digest(cert_fp, "
        "expected_fingerprint):",
        "if False:",
        "test_identity.py::test_a_discovery_record_pointing_at_another_host_cannot_make_the_"
        "client_connect_there",
    ),
    Mutant(
        "listener verifies the Auth signature",
        f"{PKG}/net/listener.py",
        "if not _verify_signature(hello.public_key, auth.signature, transcript):",
        "if False:",
        "test_identity.py::test_a_dialler_whose_signature_does_not_verify_is_refused",
    ),
    Mutant(
        "Auth signature binds the listener's fingerprint",
        f"{PKG}/net/handshake.py",
        "return AUTH_CONTEXT + listener_fp + dialler_fp + listener_nonce + dialler_nonce",
        "return AUTH_CONTEXT + dialler_fp + listener_nonce + dialler_nonce",
        "test_identity.py::test_an_authentication_signature_made_for_another_listener_is_refused",
    ),
    Mutant(
        "pinned ID refuses a new key",
        f"{PKG}/services/trust.py",
        "if other is not None:",
        "if False:",
        "test_identity.py::test_a_new_key_for_a_pinned_peers_id_is_refused_with_a_warning",
    ),
    Mutant(
        "replayed invitation ids are remembered",
        f"{PKG}/services/invited.py",
        "if invitation_id in self._seen:",
        "if False:",
        "test_invitations.py::test_a_replayed_invitation_id_is_declined_and_not_shown_again",
    ),
    Mutant(
        "invitation expires at the inviter's deadline",
        f"{PKG}/core/invitation.py",
        "if self.state is State.PENDING and now >= self.deadline:",
        "if False:",
        "test_invitations.py::test_accept_after_the_inviters_deadline_is_refused",
    ),
    Mutant(
        "a cancelled invitation cannot be accepted",
        f"{PKG}/core/invitation.py",
        "        if self.state is State.CANCELLED:\n"
        "            raise InvitationRefused(Refusal.CANCELLED, state_text(State.CANCELLED))\n"
        "        if self.state is not State.PENDING:",
        "        if self.state not in (State.PENDING, State.CANCELLED):",
        "test_invitations.py::test_accept_after_cancel_is_refused",
    ),
    Mutant(
        "accept names the current revision",
        f"{PKG}/core/invitation.py",
        "if revision != self.revision:",
        "if False:",
        "test_invitations.py::test_accept_of_a_stale_revision_is_refused",
    ),
    Mutant(
        "only the inviter's key may edit or cancel",
        f"{PKG}/services/invited.py",
        "if inc is None or not tokens_equal(inc.peer.fingerprint, channel.peer.fingerprint):",
        "if inc is None:",
        "test_invitations.py::test_edit_and_cancel_from_anyone_but_the_inviter_are_ignored",
    ),
    Mutant(
        "session token bound to the invitee's key",
        f"{PKG}/core/invitation.py",
        "if not tokens_equal(fingerprint, self.peer.fingerprint):",
        "if False:",
        "test_invitations.py::test_a_session_token_presented_by_another_key_is_refused_and_used_up",
    ),
    Mutant(
        "a wrongly presented session token is used up",
        f"{PKG}/core/invitation.py",
        '        self.session_token = b""\n'
        "        if not tokens_equal(fingerprint, self.peer.fingerprint):\n"
        "            self._move(State.FAILED, WRONG_DEVICE)\n"
        "            return False\n",
        "        if not tokens_equal(fingerprint, self.peer.fingerprint):\n"
        "            return False\n"
        '        self.session_token = b""\n',
        "test_invitations.py::test_a_session_token_presented_by_another_key_is_refused_and_used_up",
    ),
    Mutant(
        "a session token opens one session only",
        f"{PKG}/services/invited.py",
        "                inv.state is State.ACCEPTED\n"
        "                and inv.session_token\n"
        "                and tokens_equal(inv.session_token, msg.session_token)\n"
        "            ):\n"
        "                ok = inv.redeem_token(msg.session_token, channel.peer.fingerprint, now)\n",
        "                inv.state in (State.ACCEPTED, State.CONNECTED)\n"
        "            ):\n"
        "                ok = True\n",
        "test_invitations.py::test_a_replayed_session_token_is_refused",
    ),
    Mutant(
        "a Hello alias must match the alias grammar",
        f"{PKG}/net/handshake.py",
        "        parse_received_alias(hello.alias)\n",
        "        pass\n",
        "test_local.py::test_a_hello_with_an_alias_outside_the_grammar_is_refused_not_cleaned",
    ),
    Mutant(
        "an alias name is never all digits",
        f"{PKG}/core/alias.py",
        "        if self.name.isdigit():\n",
        "        if False:\n",
        "test_local.py::test_a_hello_with_an_alias_outside_the_grammar_is_refused_not_cleaned",
    ),
    Mutant(
        "a discovery alias must match the alias grammar",
        f"{PKG}/net/records.py",
        "alias = str(parse_received_alias(alias_raw))",
        "alias = alias_raw",
        "test_local.py::test_a_discovery_record_with_an_alias_outside_the_grammar_is_ignored",
    ),
    Mutant(
        "the fallback runtime directory has a name nobody can claim first",
        f"{PKG}/storage/home.py",
        'made = Path(tempfile.mkdtemp(prefix=f"{APP_NAME}-", dir=self._tmp_base))',
        'made = _private_dir(self._tmp_base / f"{APP_NAME}-{os.geteuid()}")',
        "test_local.py::test_a_runtime_dir_planted_by_another_local_user_neither_stops_nor_"
        "hijacks_the_client",
    ),
    Mutant(
        "key files open to others are refused",
        f"{PKG}/storage/keystore.py",
        "if mode & 0o077:",
        "if False:",
        "test_local.py::test_a_key_file_with_loose_permissions_is_refused",
    ),
    Mutant(
        "authenticated channels are capped per key",
        f"{PKG}/services/links.py",
        "if len(same_key) >= limits.max_channels_per_key:",
        "if False:",
        "test_channel_caps.py::test_one_key_holds_at_most_the_per_key_cap_of_channels",
    ),
    Mutant(
        "authenticated channels are capped per address",
        f"{PKG}/net/listener.py",
        "if open_here + self._pending[host] >= limits.max_channels_per_address:",
        "if False:",
        "test_channel_caps.py::test_one_address_holds_at_most_the_per_address_cap",
    ),
    Mutant(
        "authenticated channels are capped in total",
        f"{PKG}/services/links.py",
        "if len(accepted) >= limits.max_channels_total:",
        "if False:",
        "test_channel_caps.py::test_at_the_total_cap_a_good_peer_still_gets_its_invitation_through",
    ),
    Mutant(
        "unused channels of unknown peers are closed",
        f"{PKG}/services/links.py",
        "        if not channel.initiator:\n            self._arm_unused(channel)\n",
        "",
        "test_channel_caps.py::test_an_unused_channel_of_an_unknown_peer_is_closed_one_with_an_"
        "invitation_kept",
    ),
    Mutant(
        "pending invitations are capped per source address",
        f"{PKG}/services/invited.py",
        "if from_here >= self.max_pending_per_address:",
        "if False:",
        "test_invitations.py::test_throwaway_keys_from_one_address_cannot_fill_the_pending_"
        "invitation_slots",
    ),
    Mutant(
        "pending invitations from unknown keys are capped as a group",
        f"{PKG}/services/invited.py",
        "if unknown >= self.max_pending_unknown:",
        "if False:",
        "test_invitations.py::test_unknown_keys_as_a_group_never_crowd_out_an_address_book_peer",
    ),
    Mutant(
        "the log is bounded in rate",
        f"{PKG}/logs.py",
        "if self._tokens < 1 and record.levelno < logging.ERROR:",
        "if False:",
        "test_logging.py::test_the_log_is_bounded_in_rate_and_says_how_many_lines_it_dropped",
    ),
    Mutant(
        "discovery TXT records are bounded in size",
        f"{PKG}/net/records.py",
        "if size > MAX_TXT_BYTES:",
        "if False:",
        "test_discovery_flood.py::test_a_txt_record_of_eight_kilobytes_is_refused",
    ),
    Mutant(
        "discovery lists a bounded number of devices",
        f"{PKG}/net/lan_peers.py",
        "if key not in self._by_instance and len(self._by_instance) >= self._max_listed:",
        "if False:",
        "test_discovery_flood.py::test_a_flood_of_fake_records_lists_at_most_the_cap_of_devices",
    ),
    Mutant(
        "received file names lose control and format characters",
        f"{PKG}/services/sessions/filenames.py",
        '"_" if unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp") else ch',
        "ch",
        "test_local.py::test_a_received_file_name_keeps_no_invisible_or_bidi_character",
    ),
    Mutant(
        "chat from a peer is bounded in rate",
        f"{PKG}/services/sessions/session.py",
        "        if self.chat_tokens < 1:\n",
        "        if False:\n",
        "test_chat.py::test_a_chat_flood_from_a_guest_is_bounded_in_rate_count_and_size",
    ),
    Mutant(
        "chat kept per session is bounded in size",
        f"{PKG}/services/sessions/session.py",
        "while total > CHAT_KEEP_CHARS and len(self.chat) > 1:",
        "while False:",
        "test_chat.py::test_a_chat_flood_from_a_guest_is_bounded_in_rate_count_and_size",
    ),
    Mutant(
        "a guest reuses its frame buffer across size changes",
        f"{PKG}/services/sessions/guest_screen.py",
        "if needed > len(self.buffer):",
        "if True:",
        "test_screen.py::test_a_host_switching_sizes_fast_makes_the_guest_allocate_at_most_a_"
        "few_buffers",
    ),
    Mutant(
        "a guest takes frame size changes at a bounded rate",
        f"{PKG}/services/sessions/guest_screen.py",
        "        if self._size_tokens < 1:\n",
        "        if False:\n",
        "test_screen.py::test_a_host_switching_sizes_fast_makes_the_guest_allocate_at_most_a_"
        "few_buffers",
    ),
    Mutant(
        "pinned keys nobody depends on are bounded in number",
        f"{PKG}/storage/pins.py",
        "        if excess <= 0:\n",
        "        if True:\n",
        "test_pins_flood.py::test_a_stream_of_fresh_keys_keeps_the_pinned_table_at_its_bound",
    ),
    Mutant(
        "the pin bound never forgets the address book, favorites or recent sessions",
        f"{PKG}/storage/pins.py",
        '            " AND device_id NOT IN (SELECT device_id FROM favorites)"\n',
        "",
        "test_pins_flood.py::test_pins_the_user_depends_on_survive_a_flood_and_still_refuse_"
        "impostors",
    ),
]


def copy_tree(into: Path) -> None:
    ignore = shutil.ignore_patterns("__pycache__", "*.egg-info", "*.pyc")
    shutil.copytree(ROOT / "anydesk_invite", into / "anydesk_invite", ignore=ignore)
    shutil.copytree(ROOT / "tests", into / "tests", ignore=ignore)
    shutil.copytree(ROOT / "resources", into / "resources", ignore=ignore)
    # tests/security/test_mutants_apply.py reads this script's list of mutants
    (into / "scripts").mkdir()
    shutil.copy2(Path(__file__), into / "scripts" / "security_mutants.py")
    shutil.copy2(ROOT / "pyproject.toml", into / "pyproject.toml")


def run_pytest(tree: Path, test: str) -> tuple[int, float]:
    env = dict(os.environ, PYTHONPATH=str(tree))
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    started = time.monotonic()
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-x", "-p", "no:randomly", f"tests/security/{test}"],
        cwd=tree,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    return result.returncode, time.monotonic() - started


def imports_from(tree: Path) -> bool:
    """The copy's package must shadow the editable install, or a mutant proves nothing."""
    env = dict(os.environ, PYTHONPATH=str(tree))
    out = subprocess.run(
        [sys.executable, "-c", "import anydesk_invite; print(anydesk_invite.__file__)"],
        cwd=tree,
        env=env,
        capture_output=True,
        text=True,
    )
    return out.stdout.strip().startswith(str(tree))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-k", default="", help="only mutants whose protection contains this")
    args = parser.parse_args(argv)
    rows: list[tuple[str, str, str]] = []
    caught_all = True
    with tempfile.TemporaryDirectory(prefix="adi-mutants-") as tmp:
        base = Path(tmp) / "base"
        copy_tree(base)
        if not imports_from(base):
            print(
                "security-mutants: the copy does not shadow the installed package", file=sys.stderr
            )
            return 2
        code, _ = run_pytest(base, "")
        if code != 0:
            print("security-mutants: the security suite fails without any mutant", file=sys.stderr)
            return 2
        for n, m in enumerate(x for x in MUTANTS if args.k in x.protection):
            tree = Path(tmp) / f"m{n}"
            copy_tree(tree)
            target = tree / m.path
            source = target.read_text(encoding="utf-8")
            if source.count(m.old) != 1:
                rows.append((m.protection, m.test.split("::")[-1], "NOT APPLIED (source changed)"))
                caught_all = False
                continue
            target.write_text(source.replace(m.old, m.new), encoding="utf-8")
            code, seconds = run_pytest(tree, m.test)
            if code == 1:
                result = f"caught (test fails, {seconds:.1f} s)"
            else:
                result = f"SURVIVED (pytest exit {code})"
                caught_all = False
            rows.append((m.protection, m.test.split("::")[-1], result))
            shutil.rmtree(tree)
    widths = [max(len(r[i]) for r in [("PROTECTION", "TEST", "RESULT"), *rows]) for i in range(3)]
    for row in [("PROTECTION", "TEST", "RESULT"), *rows]:
        print("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())
    return 0 if caught_all else 1


if __name__ == "__main__":
    sys.exit(main())
