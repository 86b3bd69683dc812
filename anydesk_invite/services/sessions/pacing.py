"""The video's pace: what the link delivers, from the guest's acks (LinkEstimate), and the
encoder settings that fit it (settings_for)."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import Final

MAX_BITRATE: Final = 12_000_000
MIN_BITRATE: Final = 300_000
BITRATE_STEPS: Final = (
    300_000, 450_000, 700_000, 1_000_000, 1_500_000, 2_200_000, 3_300_000, 5_000_000, 8_000_000,
    12_000_000,
)  # fmt: skip
"""The bitrates the encoder runs at (about x1.5 apart): the link estimate moves all the time,
and a restart for every small change would send a keyframe a second."""
START_BITRATE: Final = 4_000_000
MIN_RTT_WINDOW: Final = 10.0
"""Seconds over which the shortest round trip is taken (the link's own, without queueing)."""
QUEUED_RTT: Final = (1.5, 0.030)
"""A round trip over factor x the shortest + seconds counts as queueing."""
GUEST_GAP: Final = 0.020
"""Seconds between the guest's ack of a frame and its taking up the next within which the next
frame counts as having waited for the guest."""
LINK_SHARE: Final = 0.7
"""Share of the estimated link rate the video may use; the rest carries tiles and input."""
KEYFRAME_SECONDS: Final = 0.2
"""Seconds of the estimated link a stream's keyframe may take. A 1080p screen of text is ~815
KiB as a keyframe at crf 23: a third of a second of a 20 Mbit/s link, and the frames behind it
queue. Within 0.2 s (500 KB there, 125 KB at 5 Mbit/s) it starts blurred (~23-28 dB at 12
Mbit/s) and the pictures after it sharpen it (35 dB again ~20 pictures later, scrolling text
at 15 a second); on a fast link (127.0.0.1) the bitrate, not this, bounds it."""


@dataclass(frozen=True, slots=True)
class VideoSettings:
    """What the encoder is asked for: bits a second, pictures a second, picture scale."""

    bitrate: int
    fps: float
    scale: float


def settings_for(bitrate: int) -> VideoSettings:
    """Frame rate and resolution drop with the bitrate, so each picture keeps its quality.
    The bitrate is the highest of BITRATE_STEPS not above ``bitrate``."""
    bitrate = max(s for s in BITRATE_STEPS if s <= max(MIN_BITRATE, bitrate))
    fps = 30.0 if bitrate >= 6_000_000 else 20.0 if bitrate >= 3_000_000 else 12.0
    # Scaled text blurs badly (3/4 size: ~17 dB PSNR), so the size drops last.
    scale = 1.0 if bitrate >= 2_000_000 else 0.75 if bitrate >= 1_000_000 else 0.5
    return VideoSettings(bitrate, fps, scale)


class LinkEstimate:
    """What the link delivers, from the guest's acks (delivery-rate sampling, as BBR does).

    Each frame sent remembers how many bytes had been acked by then and when the last of those
    acks came. When its own ack comes, the bytes acked since, over the time since that earlier
    ack, are one sample of the rate: it cannot exceed what the link (and the guest) deliver,
    and a frame that did not fill the link understates it. The estimate is the largest of the
    last ``window`` samples.

    A sample below the estimate counts only while frames queue on the way: while a frame's
    round trip (send to ack, less the time the guest says it spent on the frame) stays within
    QUEUED_RTT of the shortest one lately, the link carried what it was given, and a slow
    sample says the guest was busy (decoding, or its CPU shared), not that the link is slower.
    Nor does it count when the guest took the frame up at once after the one before (its
    ack, less its busy time, comes within GUEST_GAP of the previous ack): the frame waited for
    the guest, not for the link. Nor when the frame was sent with nothing else on its way: the
    link idled before it while the host was busy (encoding), and the sample counts that idle
    time (app-limited, in BBR's words). Otherwise a busy guest or host would drive the
    bitrate, and with it the picture's quality and size, down for nothing.
    """

    def __init__(self, initial: int = START_BITRATE, window: int = 16) -> None:
        self._sent: dict[int, tuple[float, int, int, float | None, bool]] = {}
        self._samples: deque[float] = deque(maxlen=window)
        self._rtts: deque[tuple[float, float]] = deque()
        self._delivered = 0
        self._delivered_at: float | None = None
        self.rate = float(initial)
        """Bits a second."""
        self.rtt = 0.0
        """The latest frame's time from send to ack, seconds."""
        self.net_rtt = 0.0
        """The same, less the time the guest said it spent on the frame."""
        self.guest_limited = False
        """The latest frame waited for the guest (taken up as soon as it was done with the
        one before), not for the link."""
        self.min_rtt = 0.0
        """The shortest round trip over the last MIN_RTT_WINDOW seconds."""

    def sent(self, seq: int, now: float, nbytes: int) -> None:
        # Sent with nothing else on its way: the link idled before it (the host was busy),
        # so its sample may say the link is slower than it is (app-limited, as BBR says).
        alone = not self._sent
        self._sent[seq] = (now, nbytes, self._delivered, self._delivered_at, alone)
        if len(self._sent) > 256:  # acks that never came; keep memory bounded
            del self._sent[min(self._sent)]

    def queueing(self) -> bool:
        """Whether the latest frame waited in a queue on the way (its round trip is well over
        the shortest one lately)."""
        return self.net_rtt > self.min_rtt * QUEUED_RTT[0] + QUEUED_RTT[1]

    def acked(self, seq: int, now: float, busy: float = 0.0) -> None:
        """The guest acked frames up to ``seq`` at ``now``, having spent ``busy`` seconds on
        frame ``seq`` (0: it did not say)."""
        done = sorted(s for s in self._sent if s <= seq)
        if not done:
            return
        sent_at, _, delivered_then, acked_then, alone = self._sent[done[-1]]
        self._delivered += sum(self._sent.pop(s)[1] for s in done)
        self.rtt = now - sent_at
        busy = min(max(0.0, busy), self.rtt)
        self.net_rtt = self.rtt - busy
        self.guest_limited = (
            busy > 0
            and self._delivered_at is not None
            and now - busy - self._delivered_at <= GUEST_GAP
        )
        while self._rtts and (self._rtts[0][0] < now - MIN_RTT_WINDOW or len(self._rtts) > 512):
            self._rtts.popleft()
        while self._rtts and self._rtts[-1][1] >= self.net_rtt:
            self._rtts.pop()  # a monotonic queue: its head is the window's minimum
        self._rtts.append((now, self.net_rtt))
        self.min_rtt = self._rtts[0][1]
        since = acked_then if acked_then is not None else sent_at
        self._delivered_at = now
        interval = now - since
        nbytes = self._delivered - delivered_then
        if nbytes >= 2048 and interval > 0.002:
            sample = nbytes * 8 / interval
            lower = self.queueing() and not self.guest_limited and not alone
            if sample >= self.rate or lower:
                self._samples.append(sample)
                self.rate = max(self._samples)

    @property
    def measured(self) -> bool:
        """Whether an ack has given a sample yet (before, ``rate`` is the initial guess)."""
        return bool(self._samples)

    def target(self) -> int:
        return int(max(MIN_BITRATE, min(MAX_BITRATE, self.rate * LINK_SHARE)))
