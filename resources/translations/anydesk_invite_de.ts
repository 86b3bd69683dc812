<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="de">
<context>
    <name>AcceptWindow</name>
    <message>
        <source>(no alias)</source>
        <translation>(kein Alias)</translation>
    </message>
    <message>
        <source>Alias:</source>
        <translation>Alias:</translation>
    </message>
    <message>
        <source>ID:</source>
        <translation>ID:</translation>
    </message>
    <message>
        <source>Fingerprint:</source>
        <translation>Fingerabdruck:</translation>
    </message>
    <message>
        <source>Verification code</source>
        <translation>Prüfcode</translation>
    </message>
    <message>
        <source>The other side sees the same code for this connection. If it differs, someone is in between: end the session.</source>
        <translation>Die Gegenseite sieht für diese Verbindung denselben Code. Weicht er ab, sitzt jemand dazwischen: Beenden Sie die Sitzung.</translation>
    </message>
    <message>
        <source>Verification code:</source>
        <translation>Prüfcode:</translation>
    </message>
    <message>
        <source>Session with {name}</source>
        <translation>Sitzung mit {name}</translation>
    </message>
    <message>
        <source>{name} is connected to this device.</source>
        <translation>{name} ist mit diesem Gerät verbunden.</translation>
    </message>
    <message>
        <source>Your desktop is asking whether to share the screen: answer its dialog.</source>
        <translation>Ihr Desktop fragt, ob der Bildschirm geteilt werden soll: Beantworten Sie seinen Dialog.</translation>
    </message>
    <message>
        <source>Session duration</source>
        <translation>Sitzungsdauer</translation>
    </message>
    <message>
        <source>Changes apply to this session only.</source>
        <translation>Änderungen gelten nur für diese Sitzung.</translation>
    </message>
    <message>
        <source>Chat messages appear here.</source>
        <translation>Hier erscheinen die Chat-Nachrichten.</translation>
    </message>
    <message>
        <source>Chat message</source>
        <translation>Chat-Nachricht</translation>
    </message>
    <message>
        <source>&amp;End session</source>
        <translation>Sitzung b&amp;eenden</translation>
    </message>
    <message>
        <source>Duration:</source>
        <translation>Dauer:</translation>
    </message>
    <message>
        <source>&amp;Clear drawings</source>
        <translation>Zeichnungen &amp;löschen</translation>
    </message>
    <message>
        <source>Clear the guest&apos;s drawings</source>
        <translation>Zeichnungen des Gastes löschen</translation>
    </message>
    <message>
        <source>Write a message and press Enter</source>
        <translation>Nachricht schreiben und Eingabetaste drücken</translation>
    </message>
    <message>
        <source>Chat is not available</source>
        <translation>Chat ist nicht verfügbar</translation>
    </message>
    <message>
        <source>You</source>
        <translation>Sie</translation>
    </message>
    <message>
        <source>Control of keyboard and mouse is unavailable here: {problem}</source>
        <translation>Die Steuerung von Tastatur und Maus ist hier nicht möglich: {problem}</translation>
    </message>
    <message>
        <source>The session with {name} ended after {duration}.</source>
        <translation>Die Sitzung mit {name} endete nach {duration}.</translation>
    </message>
    <message>
        <source>&amp;Close</source>
        <translation>&amp;Schließen</translation>
    </message>
</context>
<context>
    <name>AddressBookDialog</name>
    <message>
        <source>write an IPv6 address as [address]:port</source>
        <translation>IPv6-Adressen bitte als [Adresse]:Port schreiben</translation>
    </message>
    <message>
        <source>{host} is not an IPv6 address</source>
        <translation>{host} ist keine IPv6-Adresse</translation>
    </message>
    <message>
        <source>an address is host:port, e.g. 192.168.1.20:7070</source>
        <translation>eine Adresse hat die Form Host:Port, z. B. 192.168.1.20:7070</translation>
    </message>
    <message>
        <source>{host} is not a host name or IPv4 address</source>
        <translation>{host} ist weder ein Hostname noch eine IPv4-Adresse</translation>
    </message>
    <message>
        <source>the port is a number from 1 to 65535</source>
        <translation>der Port ist eine Zahl von 1 bis 65535</translation>
    </message>
    <message>
        <source>a tag may not hold control characters</source>
        <translation>ein Schlagwort darf keine Steuerzeichen enthalten</translation>
    </message>
    <message>
        <source>a tag has at most {max} characters</source>
        <translation>ein Schlagwort hat höchstens {max} Zeichen</translation>
    </message>
    <message>
        <source>Edit address book entry</source>
        <translation>Adressbucheintrag bearbeiten</translation>
    </message>
    <message>
        <source>Add to address book</source>
        <translation>Zum Adressbuch hinzufügen</translation>
    </message>
    <message>
        <source>ID</source>
        <translation>ID</translation>
    </message>
    <message>
        <source>Alias</source>
        <translation>Alias</translation>
    </message>
    <message>
        <source>name@ad (optional)</source>
        <translation>name@ad (optional)</translation>
    </message>
    <message>
        <source>Name</source>
        <translation>Name</translation>
    </message>
    <message>
        <source>shown on the tile (optional)</source>
        <translation>wird auf der Kachel angezeigt (optional)</translation>
    </message>
    <message>
        <source>Address</source>
        <translation>Adresse</translation>
    </message>
    <message>
        <source>host:port where discovery cannot reach (optional)</source>
        <translation>Host:Port, wo die Netzwerksuche nicht hinreicht (optional)</translation>
    </message>
    <message>
        <source>Tags</source>
        <translation>Schlagwörter</translation>
    </message>
    <message>
        <source>comma-separated (optional)</source>
        <translation>durch Kommas getrennt (optional)</translation>
    </message>
    <message>
        <source>Save</source>
        <translation>Speichern</translation>
    </message>
    <message>
        <source>Cancel</source>
        <translation>Abbrechen</translation>
    </message>
</context>
<context>
    <name>BellButton</name>
    <message>
        <source>Invitation from {who}, cancelled {when}</source>
        <translation>Einladung von {who}, zurückgezogen {when}</translation>
    </message>
    <message>
        <source>Invitation from {who}, expired {when}</source>
        <translation>Einladung von {who}, abgelaufen {when}</translation>
    </message>
    <message>
        <source>Missed invitation from {who}, {when}</source>
        <translation>Verpasste Einladung von {who}, {when}</translation>
    </message>
    <message>
        <source>Connection request from {who}, cancelled {when}</source>
        <translation>Verbindungsanfrage von {who}, zurückgezogen {when}</translation>
    </message>
    <message>
        <source>Connection request from {who}, expired {when}</source>
        <translation>Verbindungsanfrage von {who}, abgelaufen {when}</translation>
    </message>
    <message>
        <source>Missed connection request from {who}, {when}</source>
        <translation>Verpasste Verbindungsanfrage von {who}, {when}</translation>
    </message>
    <message>
        <source>{who} asks to connect · {left} left</source>
        <translation>{who} möchte sich verbinden · noch {left}</translation>
    </message>
    <message>
        <source>{who} invites you · {offer} · {left} left</source>
        <translation>{who} lädt Sie ein · {offer} · noch {left}</translation>
    </message>
    <message numerus="yes">
        <source>%n waiting</source>
        <translation>
            <numerusform>%n wartet</numerusform>
            <numerusform>%n warten</numerusform>
        </translation>
    </message>
    <message>
        <source>No invitations waiting</source>
        <translation>Keine wartenden Einladungen</translation>
    </message>
    <message numerus="yes">
        <source>Notifications, %n waiting</source>
        <translation>
            <numerusform>Benachrichtigungen, %n wartet</numerusform>
            <numerusform>Benachrichtigungen, %n warten</numerusform>
        </translation>
    </message>
</context>
<context>
    <name>BellPopup</name>
    <message>
        <source>Invitations and requests</source>
        <translation>Einladungen und Anfragen</translation>
    </message>
    <message>
        <source>Nothing waiting.</source>
        <translation>Nichts wartet.</translation>
    </message>
    <message>
        <source>&amp;Connect</source>
        <translation>&amp;Verbinden</translation>
    </message>
    <message>
        <source>&amp;Reject</source>
        <translation>&amp;Ablehnen</translation>
    </message>
    <message>
        <source>&amp;Invite back</source>
        <translation>&amp;Zurück einladen</translation>
    </message>
</context>
<context>
    <name>ConfirmPeerDialog</name>
    <message>
        <source>Confirm the device</source>
        <translation>Gerät bestätigen</translation>
    </message>
    <message>
        <source>Confirm and &amp;connect</source>
        <translation>Bestätigen und &amp;verbinden</translation>
    </message>
</context>
<context>
    <name>ConnectRow</name>
    <message>
        <source>ID or alias to connect to</source>
        <translation>ID oder Alias des Ziels</translation>
    </message>
    <message>
        <source>Enter an ID or alias (name@ad) to connect</source>
        <translation>ID oder Alias (name@ad) eingeben, um sich zu verbinden</translation>
    </message>
    <message>
        <source>Connect</source>
        <translation>Verbinden</translation>
    </message>
    <message>
        <source>Connect error</source>
        <translation>Verbindungsfehler</translation>
    </message>
    <message>
        <source>enter an ID or an alias</source>
        <translation>geben Sie eine ID oder einen Alias ein</translation>
    </message>
</context>
<context>
    <name>EmailFallbackDialog</name>
    <message>
        <source>Invite via email</source>
        <translation>Per E-Mail einladen</translation>
    </message>
    <message>
        <source>No mail program opened. Copy this message into an email or chat (subject: “{subject}”).</source>
        <translation>Es hat sich kein E-Mail-Programm geöffnet. Kopieren Sie diese Nachricht in eine E-Mail oder einen Chat (Betreff: „{subject}“).</translation>
    </message>
    <message>
        <source>Invitation message</source>
        <translation>Einladungstext</translation>
    </message>
    <message>
        <source>Copy message</source>
        <translation>Nachricht kopieren</translation>
    </message>
    <message>
        <source>Copy link</source>
        <translation>Link kopieren</translation>
    </message>
    <message>
        <source>Copy connect link</source>
        <translation>Verbindungslink kopieren</translation>
    </message>
    <message>
        <source>Close</source>
        <translation>Schließen</translation>
    </message>
</context>
<context>
    <name>InvitationToast</name>
    <message>
        <source>Time left</source>
        <translation>Verbleibende Zeit</translation>
    </message>
    <message>
        <source>Connect</source>
        <translation>Verbinden</translation>
    </message>
    <message>
        <source>Reject</source>
        <translation>Ablehnen</translation>
    </message>
    <message>
        <source>{alias} invites you</source>
        <translation>{alias} lädt Sie ein</translation>
    </message>
    <message>
        <source>A device without alias invites you</source>
        <translation>Ein Gerät ohne Alias lädt Sie ein</translation>
    </message>
    <message>
        <source>ID {id}</source>
        <translation>ID {id}</translation>
    </message>
    <message>
        <source>Offers {profile}:</source>
        <translation>Bietet an ({profile}):</translation>
    </message>
    <message>
        <source>Offers:</source>
        <translation>Bietet an:</translation>
    </message>
    <message>
        <source>Invitation from {name} ({id})</source>
        <translation>Einladung von {name} ({id})</translation>
    </message>
</context>
<context>
    <name>InviteDialog</name>
    <message>
        <source>Enter an ID or an alias (name@ad).</source>
        <translation>Geben Sie eine ID oder einen Alias (name@ad) ein.</translation>
    </message>
    <message>
        <source>Invite to a session</source>
        <translation>Zu einer Sitzung einladen</translation>
    </message>
    <message>
        <source>ID (1 234 567 890) or alias (name@ad)</source>
        <translation>ID (1 234 567 890) oder Alias (name@ad)</translation>
    </message>
    <message>
        <source>Edit the pending invitation</source>
        <translation>Offene Einladung bearbeiten</translation>
    </message>
    <message>
        <source>&amp;Send invitation</source>
        <translation>Einladung &amp;senden</translation>
    </message>
    <message>
        <source>&amp;Invitee:</source>
        <translation>&amp;Eingeladen wird:</translation>
    </message>
    <message>
        <source>Confirm and s&amp;end</source>
        <translation>Bestätigen und s&amp;enden</translation>
    </message>
    <message>
        <source>Edit invitation</source>
        <translation>Einladung bearbeiten</translation>
    </message>
    <message>
        <source>The invitee of an invitation cannot be changed</source>
        <translation>Wer eingeladen ist, lässt sich nicht mehr ändern</translation>
    </message>
    <message>
        <source>&amp;Save changes</source>
        <translation>Änderungen &amp;speichern</translation>
    </message>
</context>
<context>
    <name>MainWindow</name>
    <message>
        <source>Invite someone to connect to this device</source>
        <translation>Jemanden einladen, sich mit diesem Gerät zu verbinden</translation>
    </message>
    <message>
        <source>Discovery on</source>
        <translation>Netzwerksuche an</translation>
    </message>
    <message>
        <source>Discovery hidden (browsing only)</source>
        <translation>Netzwerksuche verborgen (nur suchen)</translation>
    </message>
    <message>
        <source>Discovery off</source>
        <translation>Netzwerksuche aus</translation>
    </message>
    <message>
        <source>no address</source>
        <translation>keine Adresse</translation>
    </message>
    <message>
        <source>Online ({where})</source>
        <translation>Online ({where})</translation>
    </message>
    <message>
        <source>Offline</source>
        <translation>Offline</translation>
    </message>
    <message>
        <source>none</source>
        <translation>keine</translation>
    </message>
    <message>
        <source>Interfaces: {list}</source>
        <translation>Schnittstellen: {list}</translation>
    </message>
    <message>
        <source>DNS: {state}</source>
        <translation>DNS: {state}</translation>
    </message>
    <message>
        <source>Key in keyring</source>
        <translation>Schlüssel im Schlüsselbund</translation>
    </message>
    <message>
        <source>Key in a file</source>
        <translation>Schlüssel in einer Datei</translation>
    </message>
    <message>
        <source>Custom client settings cannot be read; invitations and sessions are refused until they are fixed: {problem}</source>
        <translation>Die angepassten Client-Einstellungen sind nicht lesbar; Einladungen und Sitzungen werden abgelehnt, bis sie korrigiert sind: {problem}</translation>
    </message>
    <message>
        <source>Warning</source>
        <translation>Warnung</translation>
    </message>
    <message>
        <source>Devices</source>
        <translation>Geräte</translation>
    </message>
    <message>
        <source>Status</source>
        <translation>Status</translation>
    </message>
    <message>
        <source>Starting…</source>
        <translation>Wird gestartet…</translation>
    </message>
    <message>
        <source>This device</source>
        <translation>Dieses Gerät</translation>
    </message>
    <message>
        <source>Your ID</source>
        <translation>Ihre ID</translation>
    </message>
    <message>
        <source>Invite</source>
        <translation>Einladen</translation>
    </message>
    <message>
        <source>Your alias</source>
        <translation>Ihr Alias</translation>
    </message>
    <message>
        <source>Settings</source>
        <translation>Einstellungen</translation>
    </message>
    <message>
        <source>&amp;Client</source>
        <translation>&amp;Client</translation>
    </message>
    <message>
        <source>&amp;Settings…</source>
        <translation>&amp;Einstellungen…</translation>
    </message>
    <message>
        <source>&amp;Close window</source>
        <translation>Fenster &amp;schließen</translation>
    </message>
    <message>
        <source>&amp;Quit</source>
        <translation>&amp;Beenden</translation>
    </message>
    <message>
        <source>no alias</source>
        <translation>kein Alias</translation>
    </message>
    <message>
        <source>Copy ID</source>
        <translation>ID kopieren</translation>
    </message>
    <message>
        <source>Copy alias</source>
        <translation>Alias kopieren</translation>
    </message>
    <message>
        <source>Invite via email…</source>
        <translation>Per E-Mail einladen…</translation>
    </message>
</context>
<context>
    <name>OutgoingInvitationsPanel</name>
    <message>
        <source>No invitations sent.</source>
        <translation>Keine Einladungen gesendet.</translation>
    </message>
</context>
<context>
    <name>OutgoingRow</name>
    <message>
        <source>Accepted, connecting…</source>
        <translation>Angenommen, verbinde…</translation>
    </message>
    <message>
        <source>Connected</source>
        <translation>Verbunden</translation>
    </message>
    <message>
        <source>Rejected</source>
        <translation>Abgelehnt</translation>
    </message>
    <message>
        <source>Cancelled</source>
        <translation>Zurückgezogen</translation>
    </message>
    <message>
        <source>Expired without an answer</source>
        <translation>Ohne Antwort abgelaufen</translation>
    </message>
    <message>
        <source>Failed</source>
        <translation>Fehlgeschlagen</translation>
    </message>
    <message>
        <source>Failed: {reason}</source>
        <translation>Fehlgeschlagen: {reason}</translation>
    </message>
    <message>
        <source>Time left</source>
        <translation>Verbleibende Zeit</translation>
    </message>
    <message>
        <source>Edit</source>
        <translation>Bearbeiten</translation>
    </message>
    <message>
        <source>Cancel</source>
        <translation>Zurückziehen</translation>
    </message>
    <message>
        <source>Withdraw this invitation</source>
        <translation>Diese Einladung zurückziehen</translation>
    </message>
    <message>
        <source>Resend</source>
        <translation>Erneut senden</translation>
    </message>
    <message>
        <source>Send it again with the same permissions</source>
        <translation>Mit denselben Berechtigungen erneut senden</translation>
    </message>
    <message>
        <source>Connection request</source>
        <translation>Verbindungsanfrage</translation>
    </message>
    <message>
        <source>Profile: {name}</source>
        <translation>Profil: {name}</translation>
    </message>
    <message>
        <source>Custom</source>
        <translation>Benutzerdefiniert</translation>
    </message>
</context>
<context>
    <name>PeerConfirmation</name>
    <message>
        <source>seen earlier</source>
        <translation>früher gesehen</translation>
    </message>
    <message>
        <source>seen just now</source>
        <translation>gerade eben gesehen</translation>
    </message>
    <message>
        <source>seen {n} min ago</source>
        <translation>vor {n} Min. gesehen</translation>
    </message>
    <message>
        <source>seen at {time}</source>
        <translation>um {time} gesehen</translation>
    </message>
    <message>
        <source>ID {id} · fingerprint {fp} · {address} · {seen}</source>
        <translation>ID {id} · Fingerabdruck {fp} · {address} · {seen}</translation>
    </message>
    <message>
        <source>Devices with this alias</source>
        <translation>Geräte mit diesem Alias</translation>
    </message>
    <message>
        <source>{alias} is on this network, but this device has never connected to it. Check with its owner that their window shows this ID, then confirm:</source>
        <translation>{alias} ist in diesem Netzwerk, aber dieses Gerät war noch nie damit verbunden. Prüfen Sie mit dem Besitzer, dass sein Fenster diese ID zeigt, und bestätigen Sie dann:</translation>
    </message>
    <message>
        <source>Several devices on this network call themselves {alias}. Ask its owner for the ID their window shows and pick that one:</source>
        <translation>Mehrere Geräte in diesem Netzwerk nennen sich {alias}. Fragen Sie den Besitzer nach der ID, die sein Fenster zeigt, und wählen Sie diese:</translation>
    </message>
</context>
<context>
    <name>PeerPane</name>
    <message>
        <source>Favorites</source>
        <translation>Favoriten</translation>
    </message>
    <message>
        <source>Recent Sessions</source>
        <translation>Letzte Sitzungen</translation>
    </message>
    <message>
        <source>Discovery</source>
        <translation>Netzwerk</translation>
    </message>
    <message>
        <source>Address Book</source>
        <translation>Adressbuch</translation>
    </message>
    <message>
        <source>No favorites yet. Right-click a device and pick Add to favorites.</source>
        <translation>Noch keine Favoriten. Klicken Sie mit der rechten Maustaste auf ein Gerät und wählen Sie „Zu Favoriten hinzufügen“.</translation>
    </message>
    <message>
        <source>No sessions yet.</source>
        <translation>Noch keine Sitzungen.</translation>
    </message>
    <message>
        <source>No devices found on your network yet.</source>
        <translation>Noch keine Geräte in Ihrem Netzwerk gefunden.</translation>
    </message>
    <message>
        <source>Your address book is empty. Add a device by its ID, with its address where discovery cannot reach it, or right-click a device in another tab.</source>
        <translation>Ihr Adressbuch ist leer. Fügen Sie ein Gerät mit seiner ID hinzu, mit seiner Adresse, wo die Netzwerksuche nicht hinreicht, oder klicken Sie mit der rechten Maustaste auf ein Gerät in einem anderen Reiter.</translation>
    </message>
    <message>
        <source>Filter {pane}</source>
        <translation>{pane} filtern</translation>
    </message>
    <message>
        <source>Filter by alias, name, ID or tag</source>
        <translation>Nach Alias, Name, ID oder Schlagwort filtern</translation>
    </message>
    <message>
        <source>{pane} is empty</source>
        <translation>{pane} ist leer</translation>
    </message>
    <message>
        <source>&amp;Add…</source>
        <translation>&amp;Hinzufügen…</translation>
    </message>
    <message>
        <source>Add a device to the address book</source>
        <translation>Ein Gerät zum Adressbuch hinzufügen</translation>
    </message>
    <message>
        <source>Add a device…</source>
        <translation>Gerät hinzufügen…</translation>
    </message>
    <message>
        <source>{pane} message</source>
        <translation>Meldung zu {pane}</translation>
    </message>
    <message>
        <source>Actions for {peer}</source>
        <translation>Aktionen für {peer}</translation>
    </message>
    <message>
        <source>Invite</source>
        <translation>Einladen</translation>
    </message>
    <message>
        <source>Connect (ask to be let in)</source>
        <translation>Verbinden (um Einlass bitten)</translation>
    </message>
    <message>
        <source>Remove from favorites</source>
        <translation>Aus Favoriten entfernen</translation>
    </message>
    <message>
        <source>Add to favorites</source>
        <translation>Zu Favoriten hinzufügen</translation>
    </message>
    <message>
        <source>Edit…</source>
        <translation>Bearbeiten…</translation>
    </message>
    <message>
        <source>Add to address book…</source>
        <translation>Zum Adressbuch hinzufügen…</translation>
    </message>
    <message>
        <source>Copy ID</source>
        <translation>ID kopieren</translation>
    </message>
    <message>
        <source>Remove from address book</source>
        <translation>Aus dem Adressbuch entfernen</translation>
    </message>
    <message>
        <source>Checking {address}…</source>
        <translation>Prüfe {address}…</translation>
    </message>
    <message>
        <source>{name} answered at {address}: it is online.</source>
        <translation>{name} hat unter {address} geantwortet: Es ist online.</translation>
    </message>
    <message>
        <source>{name} did not answer at {address}: {reason}. Check the address and that the app runs there; it is tried again in the background.</source>
        <translation>{name} hat unter {address} nicht geantwortet: {reason}. Prüfen Sie die Adresse und ob die App dort läuft; es wird im Hintergrund erneut versucht.</translation>
    </message>
</context>
<context>
    <name>PeerTile</name>
    <message>
        <source>online</source>
        <translation>online</translation>
    </message>
    <message>
        <source>offline</source>
        <translation>offline</translation>
    </message>
    <message>
        <source>{title}, ID {id}, {state}</source>
        <translation>{title}, ID {id}, {state}</translation>
    </message>
    <message>
        <source>ID {id}</source>
        <translation>ID {id}</translation>
    </message>
    <message>
        <source>found through your organisation&apos;s DNS (another subnet)</source>
        <translation>über das DNS Ihrer Organisation gefunden (anderes Subnetz)</translation>
    </message>
    <message>
        <source>address {address}</source>
        <translation>Adresse {address}</translation>
    </message>
    <message>
        <source>tags: {tags}</source>
        <translation>Schlagwörter: {tags}</translation>
    </message>
    <message>
        <source>never connected</source>
        <translation>noch nie verbunden</translation>
    </message>
    <message>
        <source>Warning: two devices claim this ID on the network</source>
        <translation>Warnung: Zwei Geräte im Netzwerk geben diese ID an</translation>
    </message>
    <message>
        <source>Last session {when}</source>
        <translation>Letzte Sitzung {when}</translation>
    </message>
    <message>
        <source>⚠ ID conflict on the network</source>
        <translation>⚠ ID-Konflikt im Netzwerk</translation>
    </message>
</context>
<context>
    <name>Permission</name>
    <message>
        <source>Control keyboard and mouse</source>
        <translation>Tastatur und Maus steuern</translation>
    </message>
    <message>
        <source>Clipboard</source>
        <translation>Zwischenablage</translation>
    </message>
    <message>
        <source>File transfer</source>
        <translation>Dateiübertragung</translation>
    </message>
    <message>
        <source>System information</source>
        <translation>Systeminformationen</translation>
    </message>
    <message>
        <source>Draw on screen</source>
        <translation>Auf dem Bildschirm zeichnen</translation>
    </message>
    <message>
        <source>View screen</source>
        <translation>Bildschirm ansehen</translation>
    </message>
</context>
<context>
    <name>PermissionToggles</name>
    <message>
        <source>Custom</source>
        <translation>Benutzerdefiniert</translation>
    </message>
    <message>
        <source>Viewing the screen is part of every session</source>
        <translation>Das Ansehen des Bildschirms gehört zu jeder Sitzung</translation>
    </message>
    <message>
        <source>Permission profile</source>
        <translation>Berechtigungsprofil</translation>
    </message>
    <message>
        <source>&amp;Profile:</source>
        <translation>&amp;Profil:</translation>
    </message>
    <message>
        <source>Locked</source>
        <translation>Gesperrt</translation>
    </message>
    <message>
        <source>Fixed for this session</source>
        <translation>Für diese Sitzung festgelegt</translation>
    </message>
</context>
<context>
    <name>Profile</name>
    <message>
        <source>Full Access</source>
        <translation>Vollzugriff</translation>
    </message>
    <message>
        <source>Default</source>
        <translation>Standard</translation>
    </message>
    <message>
        <source>Screen Sharing</source>
        <translation>Bildschirmfreigabe</translation>
    </message>
</context>
<context>
    <name>ProfileEditor</name>
    <message>
        <source>New profile</source>
        <translation>Neues Profil</translation>
    </message>
    <message>
        <source>Permission profiles</source>
        <translation>Berechtigungsprofile</translation>
    </message>
    <message>
        <source>Profile name</source>
        <translation>Profilname</translation>
    </message>
    <message>
        <source>Built-in profiles cannot be changed.</source>
        <translation>Eingebaute Profile lassen sich nicht ändern.</translation>
    </message>
    <message>
        <source>Built-in profile</source>
        <translation>Eingebautes Profil</translation>
    </message>
    <message>
        <source>&amp;Name:</source>
        <translation>Na&amp;me:</translation>
    </message>
    <message>
        <source>Viewing the screen is part of every session</source>
        <translation>Das Ansehen des Bildschirms gehört zu jeder Sitzung</translation>
    </message>
    <message>
        <source>&amp;New</source>
        <translation>&amp;Neu</translation>
    </message>
    <message>
        <source>Save p&amp;rofile</source>
        <translation>P&amp;rofil speichern</translation>
    </message>
    <message>
        <source>Save profile</source>
        <translation>Profil speichern</translation>
    </message>
    <message>
        <source>De&amp;lete</source>
        <translation>&amp;Löschen</translation>
    </message>
    <message>
        <source>Delete profile</source>
        <translation>Profil löschen</translation>
    </message>
    <message>
        <source>{name} (built-in)</source>
        <translation>{name} (eingebaut)</translation>
    </message>
    <message>
        <source>the built-in profile {name} cannot be changed</source>
        <translation>das eingebaute Profil {name} lässt sich nicht ändern</translation>
    </message>
    <message>
        <source>a profile named {name} exists already</source>
        <translation>ein Profil namens {name} gibt es bereits</translation>
    </message>
</context>
<context>
    <name>RequestPage</name>
    <message>
        <source>First contact: this device has never connected before. Compare the fingerprint with its owner before you grant more than viewing.</source>
        <translation>Erster Kontakt: Dieses Gerät hat sich noch nie verbunden. Vergleichen Sie den Fingerabdruck mit dem Besitzer, bevor Sie mehr als das Zusehen erlauben.</translation>
    </message>
    <message>
        <source>Connection request from {name}</source>
        <translation>Verbindungsanfrage von {name}</translation>
    </message>
    <message>
        <source>{name} asks to connect to this device.</source>
        <translation>{name} möchte sich mit diesem Gerät verbinden.</translation>
    </message>
    <message>
        <source>&amp;Accept</source>
        <translation>&amp;Annehmen</translation>
    </message>
    <message>
        <source>&amp;Dismiss</source>
        <translation>A&amp;blehnen</translation>
    </message>
</context>
<context>
    <name>ScreenView</name>
    <message>
        <source>Host screen</source>
        <translation>Bildschirm des Hosts</translation>
    </message>
    <message>
        <source>Host screen to show</source>
        <translation>Anzuzeigender Bildschirm des Hosts</translation>
    </message>
    <message>
        <source>&amp;Close</source>
        <translation>&amp;Schließen</translation>
    </message>
    <message>
        <source>Close</source>
        <translation>Schließen</translation>
    </message>
    <message>
        <source>Screen sharing is not available in this session.</source>
        <translation>In dieser Sitzung ist keine Bildschirmfreigabe verfügbar.</translation>
    </message>
    <message>
        <source>The host&apos;s screen: {problem}</source>
        <translation>Bildschirm des Hosts: {problem}</translation>
    </message>
    <message>
        <source>The host does not share its screen.</source>
        <translation>Der Host gibt seinen Bildschirm nicht frei.</translation>
    </message>
    <message>
        <source>Waiting for the host&apos;s screen…</source>
        <translation>Warte auf den Bildschirm des Hosts…</translation>
    </message>
</context>
<context>
    <name>SessionWindow</name>
    <message>
        <source>Session with {name}</source>
        <translation>Sitzung mit {name}</translation>
    </message>
    <message>
        <source>Verification code: {code}</source>
        <translation>Prüfcode: {code}</translation>
    </message>
    <message>
        <source>The host sees the same code for this connection. If it differs, end the session.</source>
        <translation>Der Host sieht für diese Verbindung denselben Code. Weicht er ab, beenden Sie die Sitzung.</translation>
    </message>
    <message>
        <source>Granted permissions</source>
        <translation>Erteilte Berechtigungen</translation>
    </message>
    <message>
        <source>Permission changes</source>
        <translation>Geänderte Berechtigungen</translation>
    </message>
    <message>
        <source>Chat</source>
        <translation>Chat</translation>
    </message>
    <message>
        <source>Chat message</source>
        <translation>Chat-Nachricht</translation>
    </message>
    <message>
        <source>Write a message and press Enter</source>
        <translation>Nachricht schreiben und Eingabetaste drücken</translation>
    </message>
    <message>
        <source>End session</source>
        <translation>Sitzung beenden</translation>
    </message>
    <message>
        <source>Draw</source>
        <translation>Zeichnen</translation>
    </message>
    <message>
        <source>Draw on the host&apos;s screen</source>
        <translation>Auf dem Bildschirm des Hosts zeichnen</translation>
    </message>
    <message>
        <source>Send my clipboard to the host</source>
        <translation>Meine Zwischenablage an den Host senden</translation>
    </message>
    <message>
        <source>Off until you switch it on: what you copy stays on this computer. The host&apos;s clipboard reaches you while it grants the clipboard.</source>
        <translation>Aus, bis Sie es einschalten: Was Sie kopieren, bleibt auf diesem Computer. Die Zwischenablage des Hosts erreicht Sie, solange er die Zwischenablage erlaubt.</translation>
    </message>
    <message>
        <source>Drawing is unavailable on this host: {problem}</source>
        <translation>Zeichnen ist auf diesem Host nicht möglich: {problem}</translation>
    </message>
    <message>
        <source>The host sees where you point.</source>
        <translation>Der Host sieht, wohin Sie zeigen.</translation>
    </message>
    <message>
        <source>Control is unavailable on this host: {problem}</source>
        <translation>Steuerung ist auf diesem Host nicht möglich: {problem}</translation>
    </message>
    <message>
        <source>You control the host&apos;s keyboard and mouse.</source>
        <translation>Sie steuern Tastatur und Maus des Hosts.</translation>
    </message>
    <message>
        <source>{name} turned off “{permission}”.</source>
        <translation>{name} hat „{permission}“ ausgeschaltet.</translation>
    </message>
    <message>
        <source>{name} turned on “{permission}”.</source>
        <translation>{name} hat „{permission}“ eingeschaltet.</translation>
    </message>
    <message>
        <source>You ended the session with {name} after {duration}.</source>
        <translation>Sie haben die Sitzung mit {name} nach {duration} beendet.</translation>
    </message>
    <message>
        <source>You ended the session with {name}.</source>
        <translation>Sie haben die Sitzung mit {name} beendet.</translation>
    </message>
    <message>
        <source>The session with {name} ended after {duration}.</source>
        <translation>Die Sitzung mit {name} endete nach {duration}.</translation>
    </message>
    <message>
        <source>The session with {name} has ended.</source>
        <translation>Die Sitzung mit {name} ist beendet.</translation>
    </message>
    <message>
        <source>The session has ended.</source>
        <translation>Die Sitzung ist beendet.</translation>
    </message>
    <message>
        <source>&amp;Close</source>
        <translation>&amp;Schließen</translation>
    </message>
    <message>
        <source>Close</source>
        <translation>Schließen</translation>
    </message>
    <message>
        <source>You</source>
        <translation>Sie</translation>
    </message>
</context>
<context>
    <name>SettingsDialog</name>
    <message>
        <source>Everyone on the network</source>
        <translation>Allen im Netzwerk</translation>
    </message>
    <message>
        <source>Only people in my address book</source>
        <translation>Nur Personen aus meinem Adressbuch</translation>
    </message>
    <message>
        <source>Nobody</source>
        <translation>Niemandem</translation>
    </message>
    <message>
        <source>On: find others and be found</source>
        <translation>An: andere finden und gefunden werden</translation>
    </message>
    <message>
        <source>Hidden: find others, stay unseen</source>
        <translation>Verborgen: andere finden, selbst unsichtbar bleiben</translation>
    </message>
    <message>
        <source>Off</source>
        <translation>Aus</translation>
    </message>
    <message>
        <source>Automatic (private LAN addresses)</source>
        <translation>Automatisch (private LAN-Adressen)</translation>
    </message>
    <message>
        <source>A new interface takes effect when the client starts next time.</source>
        <translation>Eine neue Schnittstelle gilt ab dem nächsten Start des Clients.</translation>
    </message>
    <message>
        <source>In the system keyring</source>
        <translation>Im Schlüsselbund des Systems</translation>
    </message>
    <message>
        <source>In a file in the home folder ({home})</source>
        <translation>In einer Datei im Basisordner ({home})</translation>
    </message>
    <message>
        <source>Locked by your administrator</source>
        <translation>Von Ihrer Administration gesperrt</translation>
    </message>
    <message>
        <source>Why this is locked</source>
        <translation>Warum dies gesperrt ist</translation>
    </message>
    <message>
        <source>Error</source>
        <translation>Fehler</translation>
    </message>
    <message>
        <source>Folder for received files</source>
        <translation>Ordner für empfangene Dateien</translation>
    </message>
    <message>
        <source>Settings</source>
        <translation>Einstellungen</translation>
    </message>
    <message>
        <source>This device</source>
        <translation>Dieses Gerät</translation>
    </message>
    <message>
        <source>Alias</source>
        <translation>Alias</translation>
    </message>
    <message>
        <source>&amp;Alias:</source>
        <translation>&amp;Alias:</translation>
    </message>
    <message>
        <source>Accept invitations from</source>
        <translation>Einladungen annehmen von</translation>
    </message>
    <message>
        <source>Accept &amp;invitations from:</source>
        <translation>&amp;Einladungen annehmen von:</translation>
    </message>
    <message>
        <source>Discovery</source>
        <translation>Netzwerksuche</translation>
    </message>
    <message>
        <source>&amp;Discovery:</source>
        <translation>&amp;Netzwerksuche:</translation>
    </message>
    <message>
        <source>Network interface</source>
        <translation>Netzwerkschnittstelle</translation>
    </message>
    <message>
        <source>When a new interface takes effect</source>
        <translation>Wann eine neue Schnittstelle gilt</translation>
    </message>
    <message>
        <source>Network &amp;interface:</source>
        <translation>Netzwerk&amp;schnittstelle:</translation>
    </message>
    <message>
        <source>Default profile</source>
        <translation>Standardprofil</translation>
    </message>
    <message>
        <source>Default &amp;profile:</source>
        <translation>Standard&amp;profil:</translation>
    </message>
    <message>
        <source>{folder} (the default)</source>
        <translation>{folder} (Standard)</translation>
    </message>
    <message>
        <source>Choose…</source>
        <translation>Auswählen…</translation>
    </message>
    <message>
        <source>Choose the folder for received files</source>
        <translation>Ordner für empfangene Dateien auswählen</translation>
    </message>
    <message>
        <source>&amp;Received files:</source>
        <translation>Empfangene &amp;Dateien:</translation>
    </message>
    <message>
        <source>Keep running in the background when the main window closes</source>
        <translation>Im Hintergrund weiterlaufen, wenn das Hauptfenster geschlossen wird</translation>
    </message>
    <message>
        <source>Keep running in the background</source>
        <translation>Im Hintergrund weiterlaufen</translation>
    </message>
    <message>
        <source>Where the key is stored</source>
        <translation>Wo der Schlüssel gespeichert ist</translation>
    </message>
    <message>
        <source>Private key:</source>
        <translation>Privater Schlüssel:</translation>
    </message>
    <message>
        <source>Key warning</source>
        <translation>Schlüsselwarnung</translation>
    </message>
    <message>
        <source>&amp;Save</source>
        <translation>&amp;Speichern</translation>
    </message>
    <message>
        <source>Save settings</source>
        <translation>Einstellungen speichern</translation>
    </message>
    <message>
        <source>Cancel</source>
        <translation>Abbrechen</translation>
    </message>
    <message>
        <source>Your administrator&apos;s custom client settings cannot be read: {problem}</source>
        <translation>Die angepassten Client-Einstellungen Ihrer Administration sind nicht lesbar: {problem}</translation>
    </message>
    <message>
        <source>Your administrator&apos;s custom client settings allow at most: {level}</source>
        <translation>Die angepassten Client-Einstellungen Ihrer Administration erlauben höchstens: {level}</translation>
    </message>
</context>
<context>
    <name>Shell</name>
    <message>
        <source>Connect: {error}</source>
        <translation>Verbinden: {error}</translation>
    </message>
    <message>
        <source>Asked {name} to let you connect…</source>
        <translation>{name} wurde um die Verbindung gebeten…</translation>
    </message>
    <message>
        <source>Not found</source>
        <translation>Nicht gefunden</translation>
    </message>
    <message>
        <source>{error}. Is it running on this network? If discovery cannot reach it, add its address (host:port) to the address book.</source>
        <translation>{error}. Läuft es in diesem Netzwerk? Wenn die Suche es nicht erreicht, tragen Sie seine Adresse (Host:Port) ins Adressbuch ein.</translation>
    </message>
    <message>
        <source>&amp;Add its address…</source>
        <translation>Adresse &amp;hinzufügen…</translation>
    </message>
    <message>
        <source>File received</source>
        <translation>Datei empfangen</translation>
    </message>
    <message>
        <source>{name} from {peer}, saved in {folder}</source>
        <translation>{name} von {peer}, gespeichert in {folder}</translation>
    </message>
    <message>
        <source>your guest</source>
        <translation>Ihrem Gast</translation>
    </message>
    <message>
        <source>Host</source>
        <translation>Host</translation>
    </message>
    <message>
        <source>Guest</source>
        <translation>Gast</translation>
    </message>
</context>
<context>
    <name>SystemTray</name>
    <message>
        <source>{app}: people can invite you while it runs</source>
        <translation>{app}: Solange es läuft, können andere Sie einladen</translation>
    </message>
    <message>
        <source>&amp;Open {app}</source>
        <translation>{app} ö&amp;ffnen</translation>
    </message>
    <message>
        <source>&amp;Quit</source>
        <translation>&amp;Beenden</translation>
    </message>
</context>
<context>
    <name>TransferPanel</name>
    <message>
        <source>Choose a file to send</source>
        <translation>Zu sendende Datei wählen</translation>
    </message>
    <message>
        <source>{name}: failed — {reason}</source>
        <translation>{name}: fehlgeschlagen — {reason}</translation>
    </message>
    <message>
        <source>{name}: cancelled — {reason}</source>
        <translation>{name}: abgebrochen — {reason}</translation>
    </message>
    <message>
        <source>{n} s left</source>
        <translation>noch {n} s</translation>
    </message>
    <message>
        <source>{n} min left</source>
        <translation>noch {n} min</translation>
    </message>
    <message>
        <source>{h} h {m} min left</source>
        <translation>noch {h} h {m} min</translation>
    </message>
    <message>
        <source>{name}: done ({size})</source>
        <translation>{name}: fertig ({size})</translation>
    </message>
    <message>
        <source>{name} ({size}) offered</source>
        <translation>{name} ({size}) angeboten</translation>
    </message>
    <message>
        <source>{name}: {done} of {size} — {rate}/s, {left}</source>
        <translation>{name}: {done} von {size} — {rate}/s, {left}</translation>
    </message>
    <message>
        <source>{name}: {done} of {size}</source>
        <translation>{name}: {done} von {size}</translation>
    </message>
    <message>
        <source>Send file…</source>
        <translation>Datei senden…</translation>
    </message>
    <message>
        <source>Send file</source>
        <translation>Datei senden</translation>
    </message>
    <message>
        <source>Offer file…</source>
        <translation>Datei anbieten…</translation>
    </message>
    <message>
        <source>Offer file</source>
        <translation>Datei anbieten</translation>
    </message>
    <message>
        <source>File transfer is not granted</source>
        <translation>Dateiübertragung ist nicht erlaubt</translation>
    </message>
    <message>
        <source>Progress of {name}</source>
        <translation>Fortschritt von {name}</translation>
    </message>
    <message>
        <source>Cancel</source>
        <translation>Abbrechen</translation>
    </message>
    <message>
        <source>Cancel {name}</source>
        <translation>{name} abbrechen</translation>
    </message>
    <message>
        <source>Fetch</source>
        <translation>Abholen</translation>
    </message>
    <message>
        <source>Fetch {name}</source>
        <translation>{name} abholen</translation>
    </message>
    <message>
        <source>Show in folder</source>
        <translation>Im Ordner zeigen</translation>
    </message>
    <message>
        <source>Show {name} in its folder</source>
        <translation>{name} im Ordner zeigen</translation>
    </message>
</context>
<context>
    <name>When</name>
    <message>
        <source>today {time}</source>
        <translation>heute {time}</translation>
    </message>
</context>
<context>
    <name>WideAreaGroup</name>
    <message>
        <source>Other subnets (the organisation&apos;s DNS)</source>
        <translation>Andere Subnetze (DNS der Organisation)</translation>
    </message>
    <message>
        <source>DNS server</source>
        <translation>DNS-Server</translation>
    </message>
    <message>
        <source>e.g. 10.0.0.53</source>
        <translation>z. B. 10.0.0.53</translation>
    </message>
    <message>
        <source>DNS &amp;server:</source>
        <translation>DNS-&amp;Server:</translation>
    </message>
    <message>
        <source>Discovery domain</source>
        <translation>Domäne für die Suche</translation>
    </message>
    <message>
        <source>empty: learned from the search domain</source>
        <translation>leer: aus der Suchdomäne ermittelt</translation>
    </message>
    <message>
        <source>&amp;Domain:</source>
        <translation>&amp;Domäne:</translation>
    </message>
    <message>
        <source>TSIG key name</source>
        <translation>Name des TSIG-Schlüssels</translation>
    </message>
    <message>
        <source>empty: browse only</source>
        <translation>leer: nur suchen</translation>
    </message>
    <message>
        <source>TSIG &amp;key:</source>
        <translation>TSIG-&amp;Schlüssel:</translation>
    </message>
    <message>
        <source>TSIG algorithm</source>
        <translation>TSIG-Algorithmus</translation>
    </message>
    <message>
        <source>&amp;Algorithm:</source>
        <translation>&amp;Algorithmus:</translation>
    </message>
    <message>
        <source>TSIG secret</source>
        <translation>TSIG-Geheimnis</translation>
    </message>
    <message>
        <source>base64; empty keeps the stored secret</source>
        <translation>Base64; leer behält das gespeicherte Geheimnis</translation>
    </message>
    <message>
        <source>S&amp;ecret:</source>
        <translation>&amp;Geheimnis:</translation>
    </message>
    <message>
        <source>DNS discovery status</source>
        <translation>Status der DNS-Suche</translation>
    </message>
    <message>
        <source>Now:</source>
        <translation>Jetzt:</translation>
    </message>
    <message>
        <source>Switched off by your administrator&apos;s custom client settings</source>
        <translation>Von den angepassten Client-Einstellungen Ihrer Administration ausgeschaltet</translation>
    </message>
    <message>
        <source>Set by your administrator&apos;s custom client settings</source>
        <translation>Von den angepassten Client-Einstellungen Ihrer Administration festgelegt</translation>
    </message>
</context>
<context>
    <name>WindowClosing</name>
    <message>
        <source>Keep {app} running in the background when its window is closed? While it runs, people can invite you and you can be reached. Start it again to bring the window back.</source>
        <translation>Soll {app} im Hintergrund weiterlaufen, wenn sein Fenster geschlossen wird? Solange es läuft, können andere Sie einladen und Sie sind erreichbar. Starten Sie es erneut, um das Fenster zurückzuholen.</translation>
    </message>
    <message>
        <source>{app} is still running</source>
        <translation>{app} läuft weiter</translation>
    </message>
    <message>
        <source>People can invite you. Open or quit it from the tray icon.</source>
        <translation>Andere können Sie einladen. Öffnen oder beenden Sie es über das Symbol im Infobereich.</translation>
    </message>
    <message>
        <source>Keep running in the background?</source>
        <translation>Im Hintergrund weiterlaufen?</translation>
    </message>
    <message>
        <source>&amp;Keep running</source>
        <translation>&amp;Weiterlaufen</translation>
    </message>
    <message>
        <source>Keep running in the background</source>
        <translation>Im Hintergrund weiterlaufen</translation>
    </message>
    <message>
        <source>&amp;Quit</source>
        <translation>&amp;Beenden</translation>
    </message>
    <message>
        <source>Quit</source>
        <translation>Beenden</translation>
    </message>
    <message>
        <source>Do not close</source>
        <translation>Nicht schließen</translation>
    </message>
    <message>
        <source>Settings: {error}</source>
        <translation>Einstellungen: {error}</translation>
    </message>
</context>
</TS>
