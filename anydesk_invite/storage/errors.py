"""What the storage layer raises."""

from __future__ import annotations


class DatabaseError(Exception):
    """The database cannot be opened or used; the message says why."""


class SchemaTooNewError(DatabaseError):
    """The database was written by a newer version of the program."""


class StorageValueError(ValueError):
    """A value that cannot be stored: an invalid address, tag, duplicate entry and so on."""


class SettingError(DatabaseError):
    """A stored setting holds a value this version cannot read."""
