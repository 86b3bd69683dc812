"""The session wing: a session between a host and a guest, and the features it carries.

`service.SessionService` opens sessions on both sides, dispatches each message to the feature
that handles it and is the one host-side permission gate. Each feature (screen, remote input,
clipboard, files, drawing, chat, system information) is a module of its own that speaks the
`feature.Feature` protocol.
"""
