"""Pure domain: IDs, aliases, permissions, profiles, policy, invitation state machines, clocks.

Nothing in here performs I/O, imports Qt or opens sockets.
"""
