"""Icons and translations; installed as ``anydesk_invite.resources`` (see pyproject.toml)."""
