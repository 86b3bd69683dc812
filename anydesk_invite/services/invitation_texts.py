"""What people read when an invitation or a request fails: what happened and what to do, in
plain words, never a wire code or an exception's text (those go to the log)."""

from __future__ import annotations

import logging

from anydesk_invite.services.refusals import ActionRefused

_log = logging.getLogger("anydesk_invite.services.invitations")

DECLINED_TEXT = "the other side declined; you can try again later"
"""What an inviter or requester reads: the other side's reason is never told."""
CONNECTION_LOST = "the connection to the other device closed; try again"
PEER_SILENT = "the other device did not answer: is it still running and on this network?"
INVITER_GONE = "the inviter cannot be reached any more: ask them to invite you again"
INVITER_SILENT = "the inviter did not answer: ask them to invite you again"
REQUESTER_GONE = "the device that asked cannot be reached any more; it can ask again"
REQUESTER_LATE = "the other device accepted but did not connect in time; ask again"
"""Why an invitation or request failed, in words for a person, with what to do."""


def session_failed(exc: Exception) -> str:
    """Why a session did not open: a refusal's own words, else a plain sentence (the
    exception itself goes to the log, not to the person)."""
    if isinstance(exc, ActionRefused):
        return f"the session did not open: {exc}"
    _log.warning("the session did not open: %r", exc)
    return "the session did not open (the connection failed); try again"
