"""Runs every benchmark in bench/ and prints one table: figure, value, baseline measured in the
same run, ratio, goal.

    .venv/bin/python bench/run_all.py [--quick]

Each script runs as a subprocess with --json and its figures are read from the JSON object on
its last line. A script that
fails leaves its rows marked "failed" and the rest of the table stands. All traffic stays on
127.0.0.1 or inside network namespaces the script makes (wide_area.py, as root); every script
stops by itself.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
TIMEOUT = 900


@dataclass
class Row:
    figure: str
    value: float | None
    unit: str
    baseline: float | None = None
    baseline_label: str = ""
    goal: str = ""

    def cells(self) -> list[str]:
        value = "failed" if self.value is None else f"{self.value:.2f} {self.unit}"
        base = "" if self.baseline is None else f"{self.baseline:.2f} {self.unit}"
        if self.baseline_label:
            base = f"{base} ({self.baseline_label})" if base else self.baseline_label
        ratio = ""
        if self.value is not None and self.baseline:
            ratio = f"{self.value / self.baseline:.2f}x"
        return [self.figure, value, base, ratio, self.goal]


def _run(script: str, *args: str, json_flag: bool = True) -> tuple[dict[str, Any] | None, str]:
    argv = [sys.executable, str(ROOT / "bench" / script), *args]
    if json_flag:
        argv.append("--json")
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", QT_API="pyside6")
    env["PYTHONPATH"] = str(ROOT)
    print(f"running {script} {' '.join(args)} ...", file=sys.stderr, flush=True)
    started = time.monotonic()
    try:
        done = subprocess.run(
            argv, cwd=ROOT, env=env, capture_output=True, text=True, timeout=TIMEOUT, check=False
        )
    except subprocess.TimeoutExpired:
        print(f"  {script}: no result within {TIMEOUT} s", file=sys.stderr)
        return None, ""
    print(f"  {script}: {time.monotonic() - started:.0f} s", file=sys.stderr)
    if done.returncode != 0:
        print(f"  {script} failed ({done.returncode}): {done.stderr[-800:]}", file=sys.stderr)
        return None, done.stdout
    lines = done.stdout.strip().splitlines()
    if json_flag and lines:
        try:
            parsed = json.loads(lines[-1])
        except ValueError:
            return None, done.stdout
        return (parsed if isinstance(parsed, dict) else None), done.stdout
    return None, done.stdout


def _ms(d: dict[str, Any] | None, key: str) -> float | None:
    v = None if d is None else d.get(key)
    return None if v is None else float(v) * 1000


def _get(d: dict[str, Any] | None, key: str) -> float | None:
    v = None if d is None else d.get(key)
    return None if v is None else float(v)


def _machine() -> str:
    cpu = platform.processor() or "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{os.cpu_count()} cores, {cpu}, Python {platform.python_version()}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer rounds, smaller transfer")
    ns = parser.parse_args()
    q = ns.quick
    startup, _ = _run("startup.py", "--rounds", "3" if q else "5")
    memory, _ = _run("memory.py", "--peers", "1000")
    invite, _ = _run("invite_latency.py", "--rounds", "50" if q else "100")
    disc, _ = _run("discovery.py", "--rounds", "3" if q else "10", "--probe-rounds", "1",
                   "--kill-rounds", "1")  # fmt: skip
    screen, _ = _run("screen.py", "--seconds", "2" if q else "3")
    transfer, _ = _run("transfer.py", "--size-mb", "50" if q else "200")
    processes, _ = _run("transfer_processes.py", "--size-mb", "50" if q else "200",
                        "--rounds", "1" if q else "5")  # fmt: skip
    control, _ = _run("input_latency.py", "--size-mb", "200")
    control_video, _ = _run("input_latency.py", "--size-mb", "200", "--video")
    # Needs root and bind9 (namespaces, a real DNS server); its rows say "failed" otherwise.
    wide, _ = _run("wide_area.py", "--clients", "1000", "--rounds", "1" if q else "3",
                   "--browse-interval", "5" if q else "30")  # fmt: skip
    capture, _ = _run("capture.py")
    shaped = [] if q or os.geteuid() != 0 else ["--shaped"]
    video, _ = _run("screen_video.py", *(["--quick"] if q else []), *shaped)

    raw_connect = "raw TLS 1.3 connect + 200 B round trip"
    raw_open = "raw 200 B round trip, open TLS connection"
    rows = [
        Row("start-up to main window shown (warm)", _ms(startup, "client_window_s"), "ms",
            _ms(startup, "import_qtwidgets_s"), "import PySide6.QtWidgets"),
        Row("start-up to main window shown (first run)", _ms(startup, "client_first_s"), "ms",
            _ms(startup, "bare_window_s"), "bare QApplication window"),
        Row("idle RSS, main window shown", _get(memory, "idle_rss_mib"), "MiB",
            _get(memory, "bare_qapplication_rss_mib"), "bare QApplication"),
        Row("RSS with 1,000 discovered peers", _get(memory, "peers_rss_mib"), "MiB",
            _get(memory, "idle_rss_mib"), "idle client"),
        Row("invite -> received, fresh connection (p50)",
            _ms(invite, "(a) invite -> received, fresh connection"), "ms",
            _ms(invite, raw_connect), "raw TLS connect+RTT", "<= 3x raw"),
        Row("invite -> received, open connection (p50)",
            _ms(invite, "(b) invite -> received, open connection"), "ms",
            _ms(invite, raw_open), "raw TLS RTT"),
        Row("accept -> session on both sides (p50)",
            _ms(invite, "(c) accept -> session on both sides"), "ms",
            _ms(invite, raw_connect), "raw TLS connect+RTT"),
        Row("discovery: started peer listed (median)", _ms(disc, "found_s"), "ms",
            _ms(disc, "probed_s"), "with name probing", "<= 2000 ms"),
        Row("discovery: newcomer lists a running peer", _ms(disc, "late_s"), "ms",
            goal="<= 2000 ms"),
        Row("discovery: goodbye -> gone (median)", _ms(disc, "goodbye_s"), "ms",
            goal="<= 1000 ms"),
        Row("discovery: killed peer -> gone", _ms(disc, "killed_s"), "ms", goal="<= 15000 ms"),
        Row("screen fps, small region changing", _get(screen, "region_fps"), "fps",
            30.0, "grab cap", "30 fps"),
        Row("screen fps, whole screen changing", _get(screen, "full_fps"), "fps",
            30.0, "grab cap"),
        Row("screen KiB per frame, whole screen", _get(screen, "full_kib_per_frame"), "KiB",
            1920 * 1080 * 4 / 1024, "raw BGRA frame"),
        Row("hybrid: fps, scrolling text (2 processes)", _get(video, "scrolling_text_video_fps"),
            "fps", _get(video, "scrolling_text_tiles_fps"), "tiles", ">= 30 fps"),
        Row("hybrid: KiB per frame, scrolling text",
            _get(video, "scrolling_text_video_kib_per_frame"), "KiB",
            _get(video, "scrolling_text_tiles_kib_per_frame"), "tiles", "<= 40 KiB"),
        Row("hybrid: PSNR while scrolling", _get(video, "scrolling_text_video_psnr_db"), "dB",
            goal=">= 35 dB"),
        Row("hybrid: fps, panning picture", _get(video, "panning_picture_video_fps"), "fps",
            _get(video, "panning_picture_tiles_fps"), "tiles", ">= 30 fps"),
        Row("hybrid: KiB per frame, panning picture",
            _get(video, "panning_picture_video_kib_per_frame"), "KiB",
            _get(video, "panning_picture_tiles_kib_per_frame"), "tiles", "<= 40 KiB"),
        Row("hybrid: PSNR while panning", _get(video, "panning_picture_video_psnr_db"), "dB",
            goal=">= 35 dB"),
        Row("hybrid: stopped -> bit-exact", _ms(video, "scrolling_text_video_exact_after_s"), "ms",
            _ms(video, "scrolling_text_tiles_exact_after_s"), "tiles", "<= 1000 ms"),
        Row("hybrid: fps, small region", _get(video, "small_region_video_fps"), "fps",
            _get(video, "small_region_tiles_fps"), "tiles", "30 fps, bit-exact"),
        Row("hybrid: 20 Mbit/s 20 ms, latency p95",
            _get(video, "shaped_20mbit_20_ms_video_lat_p95_ms"), "ms",
            _get(video, "shaped_20mbit_20_ms_tiles_lat_p95_ms"), "tiles", "<= 150 ms"),
        Row("hybrid: 5 Mbit/s 40 ms, latency p95",
            _get(video, "shaped_5mbit_40_ms_video_lat_p95_ms"), "ms",
            _get(video, "shaped_5mbit_40_ms_tiles_lat_p95_ms"), "tiles", "<= 300 ms"),
        Row("hybrid: 5 Mbit/s 40 ms, input p99",
            _get(video, "shaped_5mbit_40_ms_video_input_p99_ms"), "ms",
            _get(video, "shaped_5mbit_40_ms_tiles_input_p99_ms"), "tiles", "<= 50 ms"),
        Row("1080p grab, X11 shared memory (p50)", _get(capture, "shm_p50_ms"), "ms",
            _get(capture, "qt_p50_ms"), "QScreen.grabWindow"),
        Row("file transfer, send -> saved, one process", _get(transfer, "transfer_mb_s"), "MB/s",
            _get(transfer, "raw_mb_s"), "raw TLS", ">= 0.70x raw"),
        Row("file transfer, send -> saved, two processes", _get(processes, "transfer_mb_s"),
            "MB/s", _get(processes, "raw_mb_s"), "raw TLS", ">= 0.70x raw"),
        Row("input latency p99, screen changing + transfer", _get(control, "p99_ms"), "ms",
            _get(control, "idle_p99_ms"), "idle session", "<= 20 ms"),
        Row("input latency p50, screen changing + transfer", _get(control, "p50_ms"), "ms",
            _get(control, "idle_p50_ms"), "idle session"),
        Row("input latency p99, screen as video + transfer", _get(control_video, "p99_ms"),
            "ms", _get(control, "p99_ms"), "tiles", "<= 20 ms"),
        Row("video fps during that transfer", _get(control_video, "video_fps"), "fps",
            _get(control, "screen_fps"), "tiles"),
        Row("screen fps during that transfer", _get(control, "screen_fps"), "fps",
            _get(screen, "full_fps"), "screen alone"),
        Row("transfer throughput under screen load", _get(control, "transfer_mb_s"), "MB/s",
            _get(transfer, "transfer_mb_s"), "transfer alone"),
        Row("DNS-SD: newcomer lists a peer on another subnet", _ms(wide, "listed_by_new_s"),
            "ms", _ms(wide, "ready_s"), "client start-up"),
        Row("DNS-SD: running peer lists the newcomer", _ms(wide, "listed_new_s"), "ms",
            _ms(wide, "ready_s"), "client start-up", "<= start-up + browse interval"),
        Row("DNS-SD: first browse of a 1,000-client zone", _ms(wide, "browse_full_s"), "ms",
            _ms(wide, "browse_again_s"), "next browse"),
        Row("DNS-SD: RSS growth holding 1,000 peers", _get(wide, "rss_mib"), "MiB",
            _get(memory, "peers_rss_mib"), "1,000 mDNS peers (whole client)"),
    ]  # fmt: skip
    header = ["figure", "value", "baseline (same run)", "ratio", "goal"]
    table = [header, *(r.cells() for r in rows)]
    widths = [max(len(line[i]) for line in table) for i in range(len(header))]
    print(f"machine: {_machine()}")
    for n, line in enumerate(table):
        print("  ".join(cell.ljust(w) for cell, w in zip(line, widths, strict=True)).rstrip())
        if n == 0:
            print("  ".join("-" * w for w in widths))
    return 0 if all(r.value is not None for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
