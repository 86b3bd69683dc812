"""PeerListModel: minimal change signals keyed by device ID; PeerFilterModel: the filter box."""

from __future__ import annotations

import dataclasses
import time
from typing import Any

from PySide6.QtCore import QModelIndex, Qt
from pytestqt.modeltest import ModelTester

from anydesk_invite.services.views import PeerSource, PeerView
from anydesk_invite.ui.peer_model import PeerFilterModel, PeerListModel, PeerRole
from tests.helpers.fake_client import make_peer
from tests.ui.conftest import sample_peers


class SignalLog:
    """Every structural signal a model sends, in order."""

    def __init__(self, model: PeerListModel) -> None:
        self.events: list[tuple[Any, ...]] = []
        model.modelAboutToBeReset.connect(lambda: self.events.append(("reset",)))
        model.layoutAboutToBeChanged.connect(lambda *_: self.events.append(("layout",)))
        model.rowsInserted.connect(lambda _p, a, b: self.events.append(("insert", a, b)))
        model.rowsRemoved.connect(lambda _p, a, b: self.events.append(("remove", a, b)))
        model.rowsMoved.connect(lambda *_: self.events.append(("move",)))
        model.dataChanged.connect(
            lambda tl, br, _roles=(): self.events.append(("changed", tl.row(), br.row()))
        )


def many_peers(n: int) -> list[PeerView]:
    return [make_peer(f"peer{i}", PeerSource.DISCOVERY, online=i % 2 == 0) for i in range(n)]


def test_model_passes_qt_model_tester_through_inserts_changes_and_removals(
    qtmodeltester: ModelTester,
) -> None:
    model = PeerListModel()
    qtmodeltester.check(model)
    peers = sample_peers()
    model.set_peers(peers)
    model.set_peers([*peers[:2], dataclasses.replace(peers[2], online=False), *peers[4:]])
    model.set_peers(peers[::-1])
    model.set_peers([])
    assert model.rowCount() == 0


def test_filter_model_passes_qt_model_tester(qtmodeltester: ModelTester) -> None:
    model = PeerListModel()
    proxy = PeerFilterModel(PeerSource.RECENT)
    proxy.setSourceModel(model)
    qtmodeltester.check(proxy)
    model.set_peers(sample_peers())
    proxy.set_query("an")
    proxy.set_query("")


def test_custom_roles_expose_what_a_tile_shows() -> None:
    model = PeerListModel()
    anna = sample_peers()[0]
    model.set_peers([anna])
    idx = model.index(0)
    assert idx.data(PeerRole.ALIAS) == "anna@ad"
    assert idx.data(PeerRole.ID) == anna.device_id.digits
    assert idx.data(PeerRole.GROUPED_ID) == anna.device_id.grouped()
    assert idx.data(PeerRole.ONLINE) is True
    assert idx.data(PeerRole.TAGS) == ["family"]
    assert idx.data(PeerRole.LAST_SESSION) == 1.7e9
    assert idx.data(PeerRole.FIRST_CONTACT) is True
    assert idx.data(PeerRole.PEER) == anna
    assert idx.data(Qt.ItemDataRole.DisplayRole) == "anna@ad"
    assert b"alias" in [bytes(v.data()) for v in model.roleNames().values()]


def test_one_peer_going_offline_is_one_data_changed_and_nothing_else() -> None:
    model = PeerListModel()
    peers = sample_peers()
    model.set_peers(peers)
    log = SignalLog(model)
    changed = [*peers]
    changed[3] = dataclasses.replace(peers[3], online=True)
    model.set_peers(changed)
    assert log.events == [("changed", 3, 3)]
    assert model.index(3).data(PeerRole.ONLINE) is True


def test_a_new_peer_is_one_insert_at_the_end() -> None:
    model = PeerListModel()
    peers = sample_peers()
    model.set_peers(peers)
    log = SignalLog(model)
    model.set_peers([make_peer("newcomer", PeerSource.DISCOVERY), *peers])
    assert log.events == [("insert", 5, 5)]
    assert model.index(5).data(PeerRole.ALIAS) == "newcomer@ad"


def test_removed_peers_are_removed_in_contiguous_runs() -> None:
    model = PeerListModel()
    peers = sample_peers()
    model.set_peers(peers)
    log = SignalLog(model)
    model.set_peers([peers[0], peers[3]])
    assert log.events == [("remove", 4, 4), ("remove", 1, 2)]
    assert [p.alias for p in model.peers()] == ["anna@ad", "dieter@ad"]


def test_one_peer_update_touches_its_row_alone(qtmodeltester: ModelTester) -> None:
    model = PeerListModel()
    qtmodeltester.check(model)
    peers = sample_peers()
    model.set_peers(peers)
    log = SignalLog(model)
    model.update_peer(peers[2].device_id.digits, dataclasses.replace(peers[2], online=False))
    assert log.events == [("changed", 2, 2)]
    model.update_peer(peers[2].device_id.digits, model.peer_at(2))
    newcomer = make_peer("newcomer", PeerSource.DISCOVERY)
    model.update_peer(newcomer.device_id.digits, newcomer)
    assert log.events[1:] == [("insert", len(peers), len(peers))]
    model.update_peer(peers[1].device_id.digits, None)
    model.update_peer(peers[1].device_id.digits, None)
    assert log.events[2:] == [("remove", 1, 1)]
    assert model.row_of(peers[1].device_id.digits) is None


def test_same_snapshot_again_sends_no_signal() -> None:
    model = PeerListModel()
    model.set_peers(sample_peers())
    log = SignalLog(model)
    model.set_peers(sample_peers())
    assert log.events == []


def test_a_duplicate_id_in_a_snapshot_shows_once() -> None:
    model = PeerListModel()
    anna = sample_peers()[0]
    model.set_peers([anna, dataclasses.replace(anna, alias="other@ad")])
    assert model.rowCount() == 1
    assert model.index(0).data(PeerRole.ALIAS) == "anna@ad"


def test_invalid_index_has_no_data() -> None:
    model = PeerListModel()
    model.set_peers(sample_peers())
    assert model.data(QModelIndex(), PeerRole.ALIAS) is None
    assert model.rowCount(model.index(0)) == 0


def _proxy_aliases(proxy: PeerFilterModel) -> list[str]:
    return [proxy.index(r, 0).data(PeerRole.ALIAS) for r in range(proxy.rowCount())]


def test_filter_matches_alias_display_name_tags_and_id_digits_with_or_without_spaces() -> None:
    model = PeerListModel()
    peers = [*sample_peers(), make_peer("zed", PeerSource.DISCOVERY, display_name="Kitchen PC")]
    model.set_peers(peers)
    proxy = PeerFilterModel(PeerSource.ADDRESS_BOOK)
    proxy.setSourceModel(model)
    dieter = peers[3].device_id
    proxy.set_query("DIET")
    assert _proxy_aliases(proxy) == ["dieter@ad"]
    proxy.set_query("kitchen")
    assert _proxy_aliases(proxy) == ["zed@ad"]
    proxy.set_query("printer")
    assert _proxy_aliases(proxy) == ["dieter@ad"]
    proxy.set_query(dieter.grouped())
    assert _proxy_aliases(proxy) == ["dieter@ad"]
    proxy.set_query(dieter.digits[2:8])
    assert "dieter@ad" in _proxy_aliases(proxy)
    proxy.set_query("nobody-like-this")
    assert _proxy_aliases(proxy) == []
    proxy.set_query("")
    assert len(_proxy_aliases(proxy)) == len(peers)


def test_names_sort_alphabetically_and_recent_newest_first() -> None:
    model = PeerListModel()
    model.set_peers(sample_peers()[::-1])
    by_name = PeerFilterModel(PeerSource.FAVORITES)
    by_name.setSourceModel(model)
    assert _proxy_aliases(by_name) == sorted(_proxy_aliases(by_name))
    recent = PeerFilterModel(PeerSource.RECENT)
    recent.setSourceModel(model)
    assert _proxy_aliases(recent)[:2] == ["bob@ad", "anna@ad"]


def test_a_thousand_peers_fill_quickly_and_one_change_is_one_signal() -> None:
    model = PeerListModel()
    proxy = PeerFilterModel(PeerSource.DISCOVERY)
    proxy.setSourceModel(model)
    proxy.set_query("peer")
    peers = many_peers(1000)

    t0 = time.perf_counter()
    model.set_peers(peers)
    fill = time.perf_counter() - t0

    log = SignalLog(model)
    changed = [*peers]
    changed[500] = dataclasses.replace(peers[500], online=not peers[500].online)
    t0 = time.perf_counter()
    model.set_peers(changed)
    one = time.perf_counter() - t0

    print(f"\nset_peers: 1,000 new peers {fill * 1e3:.1f} ms; 1 change in 1,000 {one * 1e3:.2f} ms")
    assert log.events == [("changed", 500, 500)]
    assert proxy.rowCount() == 1000
