"""The address book's entry dialog: add or edit a device by ID, alias, name, address and tags,
with each field checked as it is typed."""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass

from PySide6.QtCore import QCoreApplication
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

from anydesk_invite.core.alias import AliasError, parse_alias, sanitize_display
from anydesk_invite.core.ids import DeviceId, IdError, parse_id
from anydesk_invite.services.views import PeerSource, PeerView
from anydesk_invite.ui.dialogs import fit_contents
from anydesk_invite.ui.styles import ERROR_STYLE

TAG_MAX = 32
_HOSTNAME = re.compile(r"(?=.{1,253}$)([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.?)+")


class EntryError(ValueError):
    """An address-book field that is not valid; the message says what to fix."""


def parse_host_port(text: str) -> str:
    """Validate ``host:port`` (IPv6 in brackets) and return it normalised."""
    t = text.strip()
    if t.startswith("["):
        host, sep, port = t[1:].partition("]:")
        if not sep:
            raise EntryError(
                QCoreApplication.translate(
                    "AddressBookDialog", "write an IPv6 address as [address]:port"
                )
            )
        try:
            ipaddress.IPv6Address(host)
        except ValueError:
            raise EntryError(
                QCoreApplication.translate(
                    "AddressBookDialog", "{host} is not an IPv6 address"
                ).format(host=f"“{host}”")
            ) from None
        host_out = f"[{host}]"
    else:
        host, sep, port = t.rpartition(":")
        if not sep or not host:
            raise EntryError(
                QCoreApplication.translate(
                    "AddressBookDialog", "an address is host:port, e.g. 192.168.1.20:7070"
                )
            )
        if not _HOSTNAME.fullmatch(host):
            raise EntryError(
                QCoreApplication.translate(
                    "AddressBookDialog", "{host} is not a host name or IPv4 address"
                ).format(host=f"“{host}”")
            )
        host_out = host
    if not port.isascii() or not port.isdigit() or not 1 <= int(port) <= 65535:
        raise EntryError(
            QCoreApplication.translate("AddressBookDialog", "the port is a number from 1 to 65535")
        )
    return f"{host_out}:{int(port)}"


def parse_tags(text: str) -> tuple[str, ...]:
    """Comma-separated tags, trimmed, without empties or repeats."""
    out: list[str] = []
    for raw in text.split(","):
        tag = raw.strip()
        if not tag:
            continue
        if sanitize_display(tag) != tag:
            raise EntryError(
                QCoreApplication.translate(
                    "AddressBookDialog", "a tag may not hold control characters"
                )
            )
        if len(tag) > TAG_MAX:
            raise EntryError(
                QCoreApplication.translate(
                    "AddressBookDialog", "a tag has at most {max} characters"
                ).format(max=TAG_MAX)
            )
        if tag.casefold() not in (t.casefold() for t in out):
            out.append(tag)
    return tuple(out)


@dataclass(frozen=True, slots=True)
class AddressBookEntry:
    device_id: DeviceId
    alias: str
    display_name: str
    tags: tuple[str, ...]
    manual_address: str | None


class AddressBookDialog(QDialog):
    """Add or edit an address-book entry, with each field checked as it is typed."""

    def __init__(self, peer: PeerView | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("addressBookDialog")
        self.setMinimumWidth(480)  # room for the placeholders
        editing = peer is not None and PeerSource.ADDRESS_BOOK in peer.sources
        self.setWindowTitle(
            self.tr("Edit address book entry") if editing else self.tr("Add to address book")
        )
        form = QFormLayout()
        self.id_edit = self._field(form, "abId", self.tr("ID"), "1 234 567 890")
        self.alias_edit = self._field(
            form, "abAlias", self.tr("Alias"), self.tr("name@ad (optional)")
        )
        self.name_edit = self._field(
            form, "abName", self.tr("Name"), self.tr("shown on the tile (optional)")
        )
        self.address_edit = self._field(
            form,
            "abAddress",
            self.tr("Address"),
            self.tr("host:port where discovery cannot reach (optional)"),
        )
        self.tags_edit = self._field(
            form, "abTags", self.tr("Tags"), self.tr("comma-separated (optional)")
        )
        self._errors = {
            e: self._error_label(form, e.objectName().removesuffix("Edit") + "Error")
            for e in (self.id_edit, self.alias_edit, self.address_edit, self.tags_edit)
        }
        if peer is not None:
            self.id_edit.setText(peer.device_id.grouped())
            self.id_edit.setReadOnly(True)
            self.alias_edit.setText(peer.alias)
            self.name_edit.setText(peer.display_name)
            self.address_edit.setText(peer.manual_address or "")
            self.tags_edit.setText(", ".join(peer.tags))
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel
        )
        self.save_button = buttons.button(QDialogButtonBox.StandardButton.Save)
        self.save_button.setObjectName("abSaveButton")
        self.save_button.setAccessibleName(self.tr("Save"))
        cancel = buttons.button(QDialogButtonBox.StandardButton.Cancel)
        cancel.setObjectName("abCancelButton")
        cancel.setAccessibleName(self.tr("Cancel"))
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(buttons)
        fit_contents(self)
        for edit in (
            self.id_edit,
            self.alias_edit,
            self.name_edit,
            self.address_edit,
            self.tags_edit,
        ):
            edit.textChanged.connect(self._validate)
        self._entry: AddressBookEntry | None = None
        self._validate()

    @staticmethod
    def _field(form: QFormLayout, name: str, label: str, hint: str) -> QLineEdit:
        edit = QLineEdit()
        edit.setObjectName(name + "Edit")
        edit.setAccessibleName(label)
        edit.setPlaceholderText(hint)
        form.addRow(label, edit)
        return edit

    @staticmethod
    def _error_label(form: QFormLayout, name: str) -> QLabel:
        label = QLabel()
        label.setObjectName(name)
        label.setAccessibleName(name)
        label.setStyleSheet(ERROR_STYLE)
        label.setWordWrap(True)
        label.hide()
        form.addRow("", label)
        return label

    def _validate(self) -> None:
        errors: dict[QLineEdit, str] = {}
        device_id: DeviceId | None = None
        alias = ""
        address: str | None = None
        tags: tuple[str, ...] = ()
        try:
            device_id = parse_id(self.id_edit.text())
        except IdError as e:
            errors[self.id_edit] = str(e)
        if self.alias_edit.text().strip():
            try:
                alias = str(parse_alias(self.alias_edit.text()))
            except AliasError as e:
                errors[self.alias_edit] = str(e)
        if self.address_edit.text().strip():
            try:
                address = parse_host_port(self.address_edit.text())
            except EntryError as e:
                errors[self.address_edit] = str(e)
        try:
            tags = parse_tags(self.tags_edit.text())
        except EntryError as e:
            errors[self.tags_edit] = str(e)
        for edit, label in self._errors.items():
            # An empty ID field is not shouted at before the user typed anything.
            msg = errors.get(edit, "")
            if edit is self.id_edit and not edit.text().strip():
                msg = ""
            label.setText(msg)
            label.setVisible(bool(msg))
        self.save_button.setEnabled(not errors)
        self._entry = None
        if device_id is not None and not errors:
            self._entry = AddressBookEntry(
                device_id,
                alias,
                sanitize_display(self.name_edit.text()),
                tags,
                address,
            )

    def error_text(self, edit: QLineEdit) -> str:
        return self._errors[edit].text()

    def entry(self) -> AddressBookEntry | None:
        """The validated entry, or None while a field is invalid."""
        return self._entry
