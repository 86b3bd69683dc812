"""anydesk_invite: invite people on your LAN into a remote-desktop session, peer to peer.

Not affiliated with AnyDesk; this project reimplements a behaviour AnyDesk documents.
"""

__version__ = "0.1.0"
APP_NAME = "anydesk-invite"
PROJECT_URL = "https://github.com/anydesk-invite/anydesk-invite"
