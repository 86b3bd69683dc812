"""The hybrid screen stream through a shaped link: host and guest in two network namespaces
joined by a veth, the host's side limited to 5 Mbit/s with ``tc tbf`` and 40 ms of round trip
added by the bench's delaying proxy (netem is missing here). Short and bounded for CI; the
full 60 s runs are ``bench/screen_video.py --shaped``. Behaviour, not timing: the video adapts
below what the link carries, nothing is skipped, and the still picture ends bit-exact.
Skipped, with the reason, where namespaces cannot be made (not root, no iproute2)."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator

import pytest

from bench.screen_video import scenario
from tests.helpers.processes import NamespacePair, NamespaceUnavailable

pytestmark = [pytest.mark.e2e, pytest.mark.netns]


@pytest.fixture(scope="module")
def shaped() -> Iterator[NamespacePair]:
    """The namespaces, once for the module, the host's side at 5 Mbit/s."""
    pair = NamespacePair()
    try:
        pair.create()
    except NamespaceUnavailable as exc:
        pytest.skip(f"network namespaces unavailable: {exc}")
    try:
        tbf = ["tbf", "rate", "5mbit", "burst", "16kb", "latency", "400ms"]
        done = subprocess.run(
            ["tc", "-n", pair.names[0], "qdisc", "replace", "dev", "adiva", "root", *tbf],
            capture_output=True, text=True, check=False,
        )  # fmt: skip
        if done.returncode != 0:
            pytest.skip(f"tc tbf unavailable: {done.stderr.strip()}")
        yield pair
    finally:
        pair.close()


def test_through_5_mbit_the_video_paces_itself_below_the_link_and_ends_bit_exact(
    shaped: NamespacePair,
) -> None:
    result = scenario(
        "photo", "video", 3.0, ns=shaped.names, address=shaped.ADDRESSES[0], delay=0.04,
        inputs=True,
    )  # fmt: skip
    assert "failed" not in result, result
    assert result["video_shown"] > 0 and result["video_skipped"] == 0, result
    # The host's estimate from the acks brought the video under the 5 Mbit/s link.
    assert result["video_bitrate_last_mbit"] is not None
    assert result["video_bitrate_last_mbit"] < 5.0, result
    # Input crossed the loaded link the other way.
    assert result["input_p99_ms"] is not None
    assert result["exact_after_s"] is not None, "the still picture never became bit-exact"


def test_a_tile_only_guest_still_gets_the_screen_through_the_shaped_link(
    shaped: NamespacePair,
) -> None:
    result = scenario("region", "tiles", 2.0, ns=shaped.names, address=shaped.ADDRESSES[0])
    assert "failed" not in result, result
    assert result["video_shown"] == 0 and result["frames"] > 1, result
    assert result["exact_after_s"] is not None
