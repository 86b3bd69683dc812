"""What each command of the local control API does: the request checked, the facade asked,
the reply built (its JSON is control_schema.py's). ControlServer (control.py) hands each request
line here."""

from __future__ import annotations

import contextlib
import json
import logging
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from anydesk_invite import PROJECT_URL
from anydesk_invite.core.alias import AliasError, parse_alias
from anydesk_invite.core.email_invite import mailto_url
from anydesk_invite.core.ids import (
    DeviceId,
    looks_like_id,
)
from anydesk_invite.core.invitation import Kind
from anydesk_invite.core.permissions import (
    DEFAULT,
    Permission,
    permission_keys,
)
from anydesk_invite.services.control_schema import (
    CODE_REFUSED,
    CODE_USAGE,
    BadRequest,
    MissingArgument,
    error_reply,
    invitation_json,
    normalize_fingerprint,
    parse_host_port,
    peer_json,
    permission_list,
    request_target,
    resolve_id,
    session_json,
    status_json,
    transfer_json,
    validate_request,
)
from anydesk_invite.services.facade import ActionRefused, ClientFacade
from anydesk_invite.services.views import (
    InvitationView,
    PeerSource,
    PeerView,
    SessionView,
    TransferState,
)

_log = logging.getLogger(__name__)


class ControlCommands:
    """The handler of every control command, over the facade of the running client."""

    def __init__(self, facade: ClientFacade, *, on_raise: Callable[[], None]) -> None:
        self._facade = facade
        self._on_raise = on_raise
        self._handlers: dict[str, Callable[[dict[str, Any]], Awaitable[object]]] = {
            "get-id": self._get_id,
            "get-alias": self._get_alias,
            "get-status": self._get_status,
            "peers": self._peers,
            "invite": self._invite,
            "connect": self._connect,
            "invitations": self._invitations,
            "edit": self._edit,
            "cancel": self._cancel,
            "accept": self._accept,
            "reject": self._reject,
            "sessions": self._sessions,
            "permissions": self._permissions,
            "end": self._end,
            "sysinfo": self._sysinfo,
            "send-file": self._send_file,
            "transfers": self._transfers,
            "fetch": self._fetch,
            "cancel-transfer": self._cancel_transfer,
            "clipboard": self._clipboard,
            "raise": self._raise,
            "email-invite": self._email_invite,
            "address-book-add": self._address_book_add,
            "address-book-remove": self._address_book_remove,
            "address-book-list": self._address_book_list,
            "favorite-add": self._favorite_add,
            "favorite-remove": self._favorite_remove,
        }

    async def answer(self, line: bytes) -> dict[str, Any]:
        """The response to one request line."""
        try:
            request = json.loads(line)
        except (ValueError, UnicodeDecodeError) as exc:
            return error_reply(CODE_USAGE, f"the request is not JSON: {exc}")
        cmd = "?"
        try:
            cmd, args = validate_request(request)
            result = await self._handlers[cmd](args)
        except (BadRequest, MissingArgument) as exc:
            return error_reply(exc.code, str(exc))
        except ActionRefused as exc:
            return error_reply(CODE_REFUSED, str(exc))
        except Exception as exc:
            _log.exception("control: %s failed", cmd)
            return error_reply(CODE_REFUSED, f"the client failed: {exc}")
        return {"ok": True, "result": result}

    # Permission sets -----------------------------------------------------------------------

    def _profile(self, name: str | None) -> tuple[str, frozenset[Permission]]:
        profiles = self._facade.profiles()
        if name is None:
            # The user's chosen default profile, as the invite dialog preselects it.
            name = self._facade.settings().default_profile or DEFAULT
            if not any(p.name.casefold() == name.casefold() for p in profiles):
                name = DEFAULT
        for p in profiles:
            if p.name.casefold() == name.strip().casefold():
                return p.name, p.permissions
        known = ", ".join(p.name for p in profiles)
        raise BadRequest(f"unknown profile {name!r} (known: {known})")

    def _choose(
        self, base_name: str, base: frozenset[Permission], args: dict[str, Any]
    ) -> tuple[frozenset[Permission], str]:
        """Start from a base set, add --allow, remove --deny; name the profile it matches."""
        allow = permission_list(args.get("allow"), "allow")
        deny = permission_list(args.get("deny"), "deny")
        both = allow & deny
        if both:
            raise BadRequest(
                f"{', '.join(permission_keys(both))} is both allowed and denied; pick one"
            )
        perms = (base | allow) - deny
        if perms == base:
            return perms, base_name
        for p in self._facade.profiles():
            if p.permissions == perms:
                return perms, p.name
        return perms, ""

    def _invitation_id(self, text: str) -> str:
        known = [v.invitation_id for v in self._facade.invitations()]
        return resolve_id(text, known, "invitation")

    def _invitation(self, invitation_id: str) -> InvitationView:
        for v in self._facade.invitations():
            if v.invitation_id == invitation_id:
                return v
        raise MissingArgument(f"there is no invitation with id {invitation_id}")

    def _session(self, text: str) -> SessionView:
        sessions = self._facade.sessions()
        full = resolve_id(text, [s.session_id for s in sessions], "session")
        return next(s for s in sessions if s.session_id == full)

    def _own(self) -> bytes:
        return self._facade.status().fingerprint

    @staticmethod
    def _confirm(args: dict[str, Any]) -> str | None:
        text = args.get("confirm")
        if text is None:
            return None
        try:
            return normalize_fingerprint(text)
        except ValueError as exc:
            raise BadRequest(f"confirm: {exc}") from None

    # Commands ------------------------------------------------------------------------------

    async def _get_id(self, args: dict[str, Any]) -> object:
        return self._facade.status().device_id.digits

    async def _get_alias(self, args: dict[str, Any]) -> object:
        return self._facade.status().alias

    async def _get_status(self, args: dict[str, Any]) -> object:
        return status_json(self._facade.status())

    async def _peers(self, args: dict[str, Any]) -> object:
        return [peer_json(p) for p in self._facade.peers()]

    def _device(self, text: str) -> tuple[DeviceId, str]:
        """The ID a target names, and the alias it was given by (if by alias)."""
        target = request_target(text)
        if looks_like_id(target):
            return DeviceId(target), ""
        key = parse_alias(target).key()
        found: list[PeerView] = []
        for p in self._facade.peers():
            with contextlib.suppress(AliasError):
                if p.alias and parse_alias(p.alias).key() == key:
                    found.append(p)
        if not found:
            raise ActionRefused(f"no known device has the alias {target}: give its ID instead")
        if len(found) > 1:
            ids = ", ".join(p.device_id.grouped() for p in found)
            raise ActionRefused(f"{target} matches several devices ({ids}): give the ID instead")
        return found[0].device_id, target

    def _book_entry(self, device_id: DeviceId) -> PeerView:
        for p in self._facade.peers():
            if p.device_id == device_id and PeerSource.ADDRESS_BOOK in p.sources:
                return p
        raise MissingArgument(f"{device_id.grouped()} is not in the address book")

    async def _address_book_add(self, args: dict[str, Any]) -> object:
        device_id, alias = self._device(args["target"])
        address: str | None = None
        if args.get("address") is not None:
            try:
                address = parse_host_port(args["address"])
            except ValueError as exc:
                raise BadRequest(f"address: {exc}") from None
        known = next((p for p in self._facade.peers() if p.device_id == device_id), None)
        current = known if known and PeerSource.ADDRESS_BOOK in known.sources else None
        await self._facade.add_to_address_book(
            device_id,
            alias=alias or (known.alias if known else ""),
            display_name=args.get("name") or (current.display_name if current else ""),
            tags=tuple(args["tags"]) if args.get("tags") else (current.tags if current else ()),
            manual_address=address or (current.manual_address if current else None),
        )
        entry = self._book_entry(device_id)
        out = peer_json(entry)
        out["probe"] = None
        if entry.manual_address:
            probe = await self._facade.probe_address(device_id)
            out["probe"] = {"reachable": probe.reachable, "reason": probe.reason}
            out["online"] = probe.reachable
        return out

    async def _address_book_remove(self, args: dict[str, Any]) -> object:
        device_id, _alias = self._device(args["target"])
        entry = self._book_entry(device_id)
        await self._facade.remove_from_address_book(device_id)
        return peer_json(entry)

    async def _address_book_list(self, args: dict[str, Any]) -> object:
        return [peer_json(p) for p in self._facade.peers() if PeerSource.ADDRESS_BOOK in p.sources]

    async def _favorite_add(self, args: dict[str, Any]) -> object:
        device_id, _alias = self._device(args["target"])
        await self._facade.set_favorite(device_id, True)
        return {"id": device_id.digits, "favorite": True}

    async def _favorite_remove(self, args: dict[str, Any]) -> object:
        device_id, _alias = self._device(args["target"])
        await self._facade.set_favorite(device_id, False)
        return {"id": device_id.digits, "favorite": False}

    async def _invitations(self, args: dict[str, Any]) -> object:
        return [invitation_json(v, self._own()) for v in self._facade.invitations()]

    async def _sessions(self, args: dict[str, Any]) -> object:
        return [session_json(v, self._own()) for v in self._facade.sessions()]

    async def _invite(self, args: dict[str, Any]) -> object:
        target = request_target(args["target"])
        confirm = self._confirm(args)
        name, base = self._profile(args.get("profile"))
        perms, profile = self._choose(name, base, args)
        view = await self._facade.invite(target, perms, profile, confirm)
        return invitation_json(view, self._own())

    async def _connect(self, args: dict[str, Any]) -> object:
        target = request_target(args["target"])
        view = await self._facade.connect(target, self._confirm(args))
        return invitation_json(view, self._own())

    async def _edit(self, args: dict[str, Any]) -> object:
        current = self._invitation(self._invitation_id(args["id"]))
        if args.get("profile") is not None:
            name, base = self._profile(args["profile"])
        else:
            # Without --profile an edit changes the permissions as last sent.
            name, base = current.profile, current.permissions
        perms, profile = self._choose(name, base, args)
        view = await self._facade.edit_invitation(current.invitation_id, perms, profile)
        return invitation_json(view, self._own())

    async def _cancel(self, args: dict[str, Any]) -> object:
        full = self._invitation_id(args["id"])
        await self._facade.cancel_invitation(full)
        return {"id": full}

    async def _accept(self, args: dict[str, Any]) -> object:
        current = self._invitation(self._invitation_id(args["id"]))
        chooses = any(args.get(k) for k in ("profile", "allow", "deny"))
        if current.kind is Kind.INVITATION:
            if chooses:
                raise BadRequest(
                    "the inviter sets the permissions of an invitation; "
                    "accept it without --profile, --allow or --deny"
                )
            session = await self._facade.accept(current.invitation_id)
        elif not chooses:
            session = await self._facade.accept(current.invitation_id)
        else:
            if args.get("profile") is not None:
                name, base = self._profile(args["profile"])
            else:
                name, base = current.profile, current.permissions
            perms, profile = self._choose(name, base, args)
            session = await self._facade.accept(current.invitation_id, perms, profile)
        return session_json(session, self._own())

    async def _reject(self, args: dict[str, Any]) -> object:
        full = self._invitation_id(args["id"])
        await self._facade.reject(full)
        return {"id": full}

    async def _permissions(self, args: dict[str, Any]) -> object:
        session = self._session(args["session"])
        perms, _ = self._choose("", session.permissions, args)
        view = await self._facade.set_session_permissions(session.session_id, perms)
        return session_json(view, self._own())

    async def _end(self, args: dict[str, Any]) -> object:
        session = self._session(args["session"])
        await self._facade.end_session(session.session_id)
        return {"id": session.session_id}

    async def _sysinfo(self, args: dict[str, Any]) -> object:
        session = self._session(args["session"])
        info = await self._facade.system_information(session.session_id)
        return {
            "os": info.os,
            "hostname": info.hostname,
            "cpu": info.cpu,
            "cpu_count": info.cpu_count,
            "memory_total": info.memory_total,
            "screens": list(info.screens),
        }

    async def _send_file(self, args: dict[str, Any]) -> object:
        """Send (guest) or offer (host) a file; a guest's answer waits until it is saved."""
        session = self._session(args["session"])
        path = Path(args["path"])
        if not path.is_absolute():
            raise BadRequest("send-file: the path must be absolute (the CLI makes it so)")
        view = await self._facade.send_file(session.session_id, str(path))
        if session.role.value == "guest":
            view = await self._facade.wait_transfer(view.transfer_id)
            if view.state is not TransferState.DONE:
                raise ActionRefused(f"{view.name}: {view.state.value}: {view.reason}")
        return transfer_json(view)

    async def _transfers(self, args: dict[str, Any]) -> object:
        session = self._session(args["session"]).session_id if "session" in args else None
        return [transfer_json(v) for v in self._facade.transfers(session)]

    async def _fetch(self, args: dict[str, Any]) -> object:
        session = self._session(args["session"])
        view = await self._facade.fetch_file(session.session_id, args["id"])
        view = await self._facade.wait_transfer(view.transfer_id)
        if view.state is not TransferState.DONE:
            raise ActionRefused(f"{view.name}: {view.state.value}: {view.reason}")
        return transfer_json(view)

    async def _cancel_transfer(self, args: dict[str, Any]) -> object:
        return transfer_json(await self._facade.cancel_transfer(args["id"]))

    async def _clipboard(self, args: dict[str, Any]) -> object:
        session = self._session(args["session"])
        send = args["send"].strip().lower()
        if send not in ("on", "off"):
            raise BadRequest("clipboard: send is on or off")
        await self._facade.set_send_clipboard(session.session_id, send == "on")
        return {"id": session.session_id, "send": send}

    async def _raise(self, args: dict[str, Any]) -> object:
        self._on_raise()
        return None

    async def _email_invite(self, args: dict[str, Any]) -> object:
        s = self._facade.status()
        try:
            url = mailto_url(s.device_id, s.alias, s.fingerprint, PROJECT_URL, args.get("to", ""))
        except ValueError as exc:
            raise BadRequest(f"email-invite: {exc}") from None
        return {"url": url}
