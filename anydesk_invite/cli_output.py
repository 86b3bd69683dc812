"""What the command line prints: each control reply as text (format_result)."""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from typing import Any

from anydesk_invite.core.alias import escape_invisible
from anydesk_invite.core.ids import DeviceId, IdError, short_fingerprint

# -- output ------------------------------------------------------------------------------


def _grouped(digits: str) -> str:
    try:
        return DeviceId(digits).grouped()
    except IdError:
        return digits


def _peer(alias: str, digits: str) -> str:
    return f"{alias} ({_grouped(digits)})" if alias else _grouped(digits)


def _perms(keys: list[str]) -> str:
    return ", ".join(keys) if keys else "view only"


def _table(headers: Sequence[str], rows: list[list[str]]) -> str:
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(headers)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)).rstrip()]
    for row in rows:
        lines.append("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())
    return "\n".join(lines)


def _invitation_line(v: dict[str, Any]) -> str:
    what = "Invitation" if v["kind"] == "invitation" else "Connection request"
    way = "to" if v["direction"] == "outgoing" else "from"
    left = f", {v['seconds_left']:.0f} s left" if v["state"] in _OPEN else ""
    profile = f" ({v['profile']})" if v["profile"] else ""
    return (
        f"{what} {v['id'][:8]} {way} {_peer(v['peer_alias'], v['peer_id'])}: {v['state']}{left}, "
        f"revision {v['revision']}; permissions: {_perms(v['permissions'])}{profile}"
    )


def _session_line(s: dict[str, Any]) -> str:
    locked = f" (locked: {', '.join(s['locked'])})" if s["locked"] else ""
    return (
        f"Session {s['id'][:8]} with {_peer(s['peer_alias'], s['peer_id'])} as {s['role']}; "
        f"permissions: {_perms(s['permissions'])}{locked}"
    )


def _transfer_line(t: dict[str, Any]) -> str:
    where = f" as {t['path']}" if t["path"] and t["direction"] == "receive" else ""
    reason = f" ({t['reason']})" if t["reason"] else ""
    name = escape_invisible(t["name"])
    return f"{name}: {t['state']}, {t['done']} of {t['size']} bytes{where}{reason}"


_OPEN = {"pending", "received", "accepting", "accepted"}


def format_result(cmd: str, result: Any) -> str:
    """The human-readable text for one command's result."""
    if cmd in ("get-id", "get-alias"):
        return str(result)
    if cmd == "get-status":
        s = result
        lines = [
            f"ID:           {_grouped(s['id'])}",
            f"Alias:        {s['alias']}",
            f"Fingerprint:  {short_fingerprint(bytes.fromhex(s['fingerprint']))}",
            f"Online:       {'yes' if s['online'] else 'no'}"
            + (f" (listening on {', '.join(s['listen'])})" if s["listen"] else ""),
            f"Discovery:    {s['discovery']}",
            f"DNS (wide):   {s.get('wide_area', 'off')}",
            f"Interfaces:   {', '.join(s['interfaces']) or 'automatic'}",
            f"Key stored:   {'OS keyring' if s['key_location'] == 'keyring' else 'file'}",
        ]
        if s["key_warning"]:
            lines.append(f"Key warning:  {s['key_warning']}")
        lines.append(
            f"Policy:       {'BROKEN: ' + s['policy_broken'] if s['policy_broken'] else 'ok'}"
        )
        lines.append(f"Accept from:  {s['accept_from'].replace('_', ' ')}")
        lines.append(f"Home:         {s['home']}")
        return "\n".join(lines)
    if cmd == "peers":
        if not result:
            return "No known peers."
        rows = [
            [
                _grouped(p["id"]) + (" (conflict)" if p.get("conflict") else ""),
                p["alias"],
                p["display_name"],
                "online" if p["online"] else "-",
                ", ".join(p["sources"]),
                ", ".join(p["tags"]),
                p["address"] or "",
            ]
            for p in result
        ]
        return _table(["ID", "ALIAS", "NAME", "ONLINE", "SOURCES", "TAGS", "ADDRESS"], rows)
    if cmd == "address-book-list":
        if not result:
            return "The address book is empty."
        rows = [
            [
                _grouped(p["id"]),
                p["alias"],
                p["display_name"],
                "online" if p["online"] else "-",
                ", ".join(p["tags"]),
                p["address"] or "",
            ]
            for p in result
        ]
        return _table(["ID", "ALIAS", "NAME", "ONLINE", "TAGS", "ADDRESS"], rows)
    if cmd == "address-book-add":
        line = f"Saved {_peer(result['alias'], result['id'])} in the address book."
        probe = result.get("probe")
        if probe is not None:
            if probe["reachable"]:
                line += f" It answers at {result['address']}: online."
            else:
                line += (
                    f" It does not answer at {result['address']}: {probe['reason']}."
                    " Check the address and that the app runs there."
                )
        return line
    if cmd == "address-book-remove":
        return f"Removed {_peer(result['alias'], result['id'])} from the address book."
    if cmd in ("favorite-add", "favorite-remove"):
        done = "Added to" if result["favorite"] else "Removed from"
        return f"{done} favorites: {_grouped(result['id'])}."
    if cmd == "invitations":
        if not result:
            return "No invitations."
        rows = [
            [
                v["id"][:8],
                "out" if v["direction"] == "outgoing" else "in",
                v["kind"],
                _peer(v["peer_alias"], v["peer_id"]),
                v["state"] + (" (missed)" if v["missed"] else ""),
                f"{v['seconds_left']:.0f} s" if v["state"] in _OPEN else "-",
                _perms(v["permissions"]),
                v["profile"],
            ]
            for v in result
        ]
        headers = ["ID", "DIR", "KIND", "PEER", "STATE", "LEFT", "PERMISSIONS", "PROFILE"]
        return _table(headers, rows)
    if cmd == "sessions":
        if not result:
            return "No sessions."
        rows = [
            [
                s["id"][:8],
                s["role"],
                _peer(s["peer_alias"], s["peer_id"]),
                _perms(s["permissions"]),
                ", ".join(s["locked"]),
                time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(s["started_at"])),
                s.get("verification", ""),
            ]
            for s in result
        ]
        return _table(["ID", "ROLE", "PEER", "PERMISSIONS", "LOCKED", "STARTED", "VERIFY"], rows)
    if cmd in ("invite", "connect", "edit"):
        return _invitation_line(result)
    if cmd in ("accept", "permissions"):
        return _session_line(result)
    if cmd == "cancel":
        return f"Cancelled invitation {result['id'][:8]}."
    if cmd == "reject":
        return f"Rejected {result['id'][:8]}."
    if cmd == "end":
        return f"Ended session {result['id'][:8]}."
    if cmd == "email-invite":
        return str(result["url"])
    if cmd == "sysinfo":
        return "\n".join(
            [
                f"OS: {result['os']}",
                f"Host name: {result['hostname']}",
                f"CPU: {result['cpu']} ({result['cpu_count']} cores)",
                f"Memory: {result['memory_total'] / 2**30:.1f} GiB",
                *(f"Screen: {s}" for s in result["screens"]),
            ]
        )
    if cmd in ("send-file", "fetch", "cancel-transfer"):
        return _transfer_line(result)
    if cmd == "transfers":
        if not result:
            return "No file transfers."
        rows = [
            [
                t["id"][:8],
                t["direction"],
                t["state"],
                f"{t['done']}/{t['size']}",
                escape_invisible(t["name"]),
            ]
            for t in result
        ]
        return _table(["ID", "DIRECTION", "STATE", "BYTES", "NAME"], rows)
    if cmd == "clipboard":
        return f"Sending the clipboard in session {result['id'][:8]}: {result['send']}."
    return json.dumps(result)
