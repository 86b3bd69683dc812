"""``python -m anydesk_invite`` and the ``anydesk-invite`` command."""

from __future__ import annotations

import os
import sys

from anydesk_invite.cli import main as cli_main


def main() -> None:
    try:
        code = cli_main()
        sys.stdout.flush()
    except BrokenPipeError:
        # The reader went away (e.g. `anydesk-invite peers | head`): not an error of ours.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        code = 0
    sys.exit(code)


if __name__ == "__main__":
    main()
