"""python -m anydesk_invite.conformance: run the conformance rules against a peer."""

import sys

from anydesk_invite.conformance.cli import main

sys.exit(main())
