"""``python -m anydesk_invite`` and the ``anydesk-invite`` command."""

from __future__ import annotations

import sys

from anydesk_invite.cli import main as cli_main


def main() -> None:
    sys.exit(cli_main())


if __name__ == "__main__":
    main()
