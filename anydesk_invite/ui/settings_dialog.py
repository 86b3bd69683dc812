"""The settings dialog: alias, whose invitations to accept, discovery, interface, profiles, key.

Settings the administrator's custom client settings force are shown locked with the reason.
Profile changes (create, rename, delete) apply at once; everything else on Save.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence

from PySide6.QtCore import QT_TRANSLATE_NOOP, QCoreApplication, Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from anydesk_invite.core.alias import AliasError, parse_alias
from anydesk_invite.core.policy import AcceptFrom, DiscoveryMode, Policy
from anydesk_invite.services.facade import ActionRefused, ClientFacade, Settings
from anydesk_invite.storage.home import default_incoming_folder
from anydesk_invite.ui.i18n import profile_label
from anydesk_invite.ui.profile_editor import ProfileEditor
from anydesk_invite.ui.qt_loop import asyncSlot
from anydesk_invite.ui.settings_parts import (
    FullSizeScrollArea,
    choose_folder_dialog,
    error_label,
    fill_levels,
    key_location_text,
    lock_label,
    lock_levels,
    locked_row,
    reason_label,
)
from anydesk_invite.ui.wide_area_group import WideAreaGroup

# In English here; the dialog shows them translated.
ACCEPT_FROM_TEXT = {
    AcceptFrom.EVERYONE: QT_TRANSLATE_NOOP("SettingsDialog", "Everyone on the network"),
    AcceptFrom.ADDRESS_BOOK: QT_TRANSLATE_NOOP("SettingsDialog", "Only people in my address book"),
    AcceptFrom.NOBODY: QT_TRANSLATE_NOOP("SettingsDialog", "Nobody"),
}
DISCOVERY_TEXT = {
    DiscoveryMode.ON: QT_TRANSLATE_NOOP("SettingsDialog", "On: find others and be found"),
    DiscoveryMode.HIDDEN: QT_TRANSLATE_NOOP("SettingsDialog", "Hidden: find others, stay unseen"),
    DiscoveryMode.OFF: QT_TRANSLATE_NOOP("SettingsDialog", "Off"),
}
AUTOMATIC = QT_TRANSLATE_NOOP("SettingsDialog", "Automatic (private LAN addresses)")
RESTART_NOTE = QT_TRANSLATE_NOOP(
    "SettingsDialog", "A new interface takes effect when the client starts next time."
)


class SettingsDialog(QDialog):
    """This client's settings. ``interface_choices`` are the addresses one may listen on."""

    def __init__(
        self,
        facade: ClientFacade,
        interface_choices: Sequence[str] = (),
        parent: QWidget | None = None,
        choose_folder: Callable[[QWidget, str], str | None] = choose_folder_dialog,
    ) -> None:
        super().__init__(parent)
        self._choose_folder = choose_folder
        self.setObjectName("settingsDialog")
        self.setAccessibleName(self.tr("Settings"))
        self.setWindowTitle(self.tr("Settings"))
        self.setMinimumWidth(560)
        self._facade = facade
        self._settings = facade.settings()
        self._policy = facade.policy()
        status = facade.status()

        general = QGroupBox(self.tr("This device"), self)
        general.setObjectName("generalGroup")
        form = QFormLayout(general)

        self.alias_edit = QLineEdit(self._settings.alias, general)
        self.alias_edit.setObjectName("aliasEdit")
        self.alias_edit.setAccessibleName(self.tr("Alias"))
        self.alias_edit.setPlaceholderText("name@ad")
        self.alias_edit.textChanged.connect(self._validate)
        self.alias_error = error_label(general, "aliasErrorLabel")
        alias_box = QVBoxLayout()
        alias_box.setSpacing(2)
        alias_box.addWidget(self.alias_edit)
        alias_box.addWidget(self.alias_error)
        alias_label = QLabel(self.tr("&Alias:"), general)
        alias_label.setBuddy(self.alias_edit)
        form.addRow(alias_label, alias_box)

        self.accept_from_combo = QComboBox(general)
        self.accept_from_combo.setObjectName("acceptFromCombo")
        self.accept_from_combo.setAccessibleName(self.tr("Accept invitations from"))
        self.accept_from_lock = lock_label(general, "acceptFromLock")
        self.accept_from_reason = reason_label(general, "acceptFromReason")
        fill_levels(
            self.accept_from_combo,
            ACCEPT_FROM_TEXT,
            self._policy.effective_accept_from(self._settings.accept_from),
            self._policy.effective_accept_from(AcceptFrom.EVERYONE),
        )
        lock_levels(
            self._policy,
            self.accept_from_combo,
            self.accept_from_lock,
            self.accept_from_reason,
            self._policy.effective_accept_from(AcceptFrom.EVERYONE),
            ACCEPT_FROM_TEXT,
        )
        label = QLabel(self.tr("Accept &invitations from:"), general)
        label.setBuddy(self.accept_from_combo)
        form.addRow(
            label,
            locked_row(self.accept_from_combo, self.accept_from_lock, self.accept_from_reason),
        )

        self.discovery_combo = QComboBox(general)
        self.discovery_combo.setObjectName("discoveryCombo")
        self.discovery_combo.setAccessibleName(self.tr("Discovery"))
        self.discovery_lock = lock_label(general, "discoveryLock")
        self.discovery_reason = reason_label(general, "discoveryReason")
        loosest_discovery = self._policy.effective_discovery(DiscoveryMode.ON)
        fill_levels(
            self.discovery_combo,
            DISCOVERY_TEXT,
            self._policy.effective_discovery(self._settings.discovery),
            loosest_discovery,
        )
        lock_levels(
            self._policy,
            self.discovery_combo,
            self.discovery_lock,
            self.discovery_reason,
            loosest_discovery,
            DISCOVERY_TEXT,
        )
        label = QLabel(self.tr("&Discovery:"), general)
        label.setBuddy(self.discovery_combo)
        form.addRow(
            label,
            locked_row(self.discovery_combo, self.discovery_lock, self.discovery_reason),
        )

        self.interface_combo = QComboBox(general)
        self.interface_combo.setObjectName("interfaceCombo")
        self.interface_combo.setAccessibleName(self.tr("Network interface"))
        self.interface_combo.addItem(QCoreApplication.translate("SettingsDialog", AUTOMATIC), ())
        choices = list(dict.fromkeys(interface_choices))
        current = tuple(self._settings.interfaces)
        for address in choices:
            self.interface_combo.addItem(address, (address,))
        if current and current not in [(c,) for c in choices]:
            self.interface_combo.addItem(", ".join(current), current)
        index = self.interface_combo.findData(current)
        self.interface_combo.setCurrentIndex(max(index, 0))
        self.interface_note = QLabel(
            QCoreApplication.translate("SettingsDialog", RESTART_NOTE), general
        )
        self.interface_note.setObjectName("interfaceNoteLabel")
        self.interface_note.setAccessibleName(self.tr("When a new interface takes effect"))
        self.interface_note.setWordWrap(True)
        self.interface_note.setStyleSheet("color: #555555;")
        iface_box = QVBoxLayout()
        iface_box.setSpacing(2)
        iface_box.addWidget(self.interface_combo)
        iface_box.addWidget(self.interface_note)
        label = QLabel(self.tr("Network &interface:"), general)
        label.setBuddy(self.interface_combo)
        form.addRow(label, iface_box)

        self.default_profile_combo = QComboBox(general)
        self.default_profile_combo.setObjectName("defaultProfileCombo")
        self.default_profile_combo.setAccessibleName(self.tr("Default profile"))
        label = QLabel(self.tr("Default &profile:"), general)
        label.setBuddy(self.default_profile_combo)
        form.addRow(label, self.default_profile_combo)

        self.folder_edit = QLineEdit(self._settings.incoming_folder, general)
        self.folder_edit.setObjectName("incomingFolderEdit")
        self.folder_edit.setAccessibleName(self.tr("Folder for received files"))
        self.folder_edit.setPlaceholderText(
            self.tr("{folder} (the default)").format(folder=default_incoming_folder())
        )
        self.folder_button = QPushButton(self.tr("Choose…"), general)
        self.folder_button.setObjectName("chooseFolderButton")
        self.folder_button.setAccessibleName(self.tr("Choose the folder for received files"))
        self.folder_button.clicked.connect(self._pick_folder)
        folder_box = QHBoxLayout()
        folder_box.addWidget(self.folder_edit, 1)
        folder_box.addWidget(self.folder_button)
        label = QLabel(self.tr("&Received files:"), general)
        label.setBuddy(self.folder_edit)
        form.addRow(label, folder_box)

        self.background_check = QCheckBox(
            self.tr("Keep running in the background when the main window closes"), general
        )
        self.background_check.setObjectName("backgroundCheck")
        self.background_check.setAccessibleName(self.tr("Keep running in the background"))
        self.background_check.setChecked(bool(self._settings.keep_running_in_background))
        form.addRow(self.background_check)

        self.key_label = QLabel(key_location_text(status), general)
        self.key_label.setObjectName("keyLocationLabel")
        self.key_label.setAccessibleName(self.tr("Where the key is stored"))
        self.key_label.setWordWrap(True)
        self.key_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        form.addRow(self.tr("Private key:"), self.key_label)
        self.key_warning = QLabel(f"⚠ {status.key_warning}" if status.key_warning else "", general)
        self.key_warning.setObjectName("keyWarningLabel")
        self.key_warning.setAccessibleName(self.tr("Key warning"))
        self.key_warning.setWordWrap(True)
        self.key_warning.setStyleSheet("color: #5c3c00;")
        self.key_warning.setVisible(bool(status.key_warning))
        form.addRow(self.key_warning)

        self.wide_area_group = WideAreaGroup(
            self._settings.wide_area, self._policy, status.wide_area, self
        )
        self.profiles = ProfileEditor(self._facade, self)
        self.profiles.saved.connect(self._profile_saved)
        self.profiles.deleted.connect(self._profile_deleted)

        self.error_label = error_label(self, "settingsErrorLabel")
        self._buttons = QDialogButtonBox(self)
        self._buttons.setObjectName("settingsButtons")
        self.save_button = self._buttons.addButton(
            self.tr("&Save"), QDialogButtonBox.ButtonRole.AcceptRole
        )
        self.save_button.setObjectName("saveSettingsButton")
        self.save_button.setAccessibleName(self.tr("Save settings"))
        self.save_button.setDefault(True)
        cancel = self._buttons.addButton(QDialogButtonBox.StandardButton.Cancel)
        cancel.setObjectName("cancelSettingsButton")
        cancel.setAccessibleName(self.tr("Cancel"))
        self._buttons.accepted.connect(self._submit)
        self._buttons.rejected.connect(self.reject)

        content = QWidget(self)
        content.setObjectName("settingsContent")
        inner = QVBoxLayout(content)
        inner.setContentsMargins(0, 0, 0, 0)
        inner.addWidget(general)
        inner.addWidget(self.wide_area_group)
        inner.addWidget(self.profiles, 1)
        inner.addWidget(self.error_label)
        # On a small screen (or at 200 %) the settings scroll; Save and Cancel stay in view.
        scroll = FullSizeScrollArea(self)
        scroll.setObjectName("settingsScroll")
        # Not a stop of its own: Tab goes through the settings in it (and it scrolls to each).
        scroll.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        scroll.setWidget(content)
        box = QVBoxLayout(self)
        box.addWidget(scroll, 1)
        box.addWidget(self._buttons)
        self._reload_profiles(self._settings.default_profile)
        self._validate()
        # All of it where the screen has room (Qt's first size stops at 2/3 of the screen);
        # the window placement shrinks it to the screen where there is none.
        self.resize(self.sizeHint())

    # -- profiles (the editor saves them at once; the default profile follows) -------------

    def _reload_profiles(self, select: str | None) -> None:
        profiles = self._facade.profiles()
        chosen_default = self._default_profile() or self._settings.default_profile
        self.default_profile_combo.clear()
        for p in profiles:
            self.default_profile_combo.addItem(profile_label(p.name), p.name)
        i = self.default_profile_combo.findData(chosen_default)
        if i < 0:
            i = self.default_profile_combo.findData(self._settings.default_profile)
        self.default_profile_combo.setCurrentIndex(max(i, 0))
        self.profiles.reload(select)

    def _profile_saved(self, before: str, name: str) -> None:
        if before and self._default_profile() == before:
            self._settings = dataclasses.replace(self._settings, default_profile=name)
            self.default_profile_combo.setCurrentIndex(-1)
        self._reload_profiles(name)

    def _profile_deleted(self, name: str) -> None:
        if self._default_profile() == name:
            self.default_profile_combo.setCurrentIndex(-1)
        self._reload_profiles(None)

    def _default_profile(self) -> str:
        """The name (the key, not the translated label) of the chosen default profile."""
        name = self.default_profile_combo.currentData()
        return name if isinstance(name, str) else ""

    # -- saving -----------------------------------------------------------------------------

    def _validate(self) -> None:
        text = self.alias_edit.text()
        problem: str | None = None
        try:
            parse_alias(text)
        except AliasError as exc:
            problem = str(exc)
            problem = problem[:1].upper() + problem[1:] + "."
        self.alias_error.setText(problem or "")
        self.alias_error.setVisible(problem is not None)
        self.save_button.setEnabled(problem is None)

    def chosen(self) -> Settings:
        """The settings as the dialog shows them now (the alias must be valid)."""
        keep = self._settings.keep_running_in_background
        if self.background_check.isChecked() != bool(keep):
            keep = self.background_check.isChecked()
        # A fully locked choice shows what the policy forces; the user's own choice is kept
        # beneath it for when the policy goes away.
        accept_from = self.accept_from_combo.currentData()
        if not self.accept_from_combo.isEnabled():
            accept_from = self._settings.accept_from
        discovery = self.discovery_combo.currentData()
        if not self.discovery_combo.isEnabled():
            discovery = self._settings.discovery
        return Settings(
            alias=str(parse_alias(self.alias_edit.text())),
            accept_from=accept_from,
            discovery=discovery,
            interfaces=tuple(self.interface_combo.currentData() or ()),
            default_profile=self._default_profile(),
            keep_running_in_background=keep,
            incoming_folder=self.folder_edit.text().strip(),
            wide_area=self.wide_area_group.chosen(),
        )

    def _pick_folder(self) -> None:
        start = self.folder_edit.text().strip() or str(default_incoming_folder())
        folder = self._choose_folder(self, start)
        if folder:
            self.folder_edit.setText(folder)

    def _submit(self) -> None:
        if self.save_button.isEnabled():
            self._save()

    @asyncSlot()
    async def _save(self) -> None:
        self.save_button.setEnabled(False)
        try:
            chosen = self.chosen()
            secret = self.wide_area_group.secret()
            if secret is not None:
                await self._facade.set_tsig_secret(chosen.wide_area.key_name, secret)
            await self._facade.update_settings(chosen)
        except ActionRefused as exc:
            message = str(exc)
            self.error_label.setText(message[:1].upper() + message[1:])
            self.error_label.show()
            self.save_button.setEnabled(True)
            return
        self.accept()

    @property
    def policy(self) -> Policy:
        return self._policy
