"""Storage: caps on size and age, a full disk, and clips never left half-written."""

from __future__ import annotations

import logging
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from edgecam.camera.av import AvSource, AvSourceConfig
from edgecam.clips.config import RuleClipConfig
from edgecam.clips.mp4 import PART_SUFFIX
from edgecam.clips.writer import ClipResult
from edgecam.events.media import MediaStore
from tests.clips.drive import play, recorder
from tests.clips.media import probe, write_h264

CLIP = RuleClipConfig(pre=0.5, post=0.5, max=10.0)


@pytest.fixture(scope="module")
def h264(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 6 s H.264 recording, one keyframe every half second."""
    return write_h264(tmp_path_factory.mktemp("h264") / "short.mp4", frames=60, gop=5)


def _clips(h264: Path, root: Path, on_result: list[ClipResult], media: MediaStore) -> None:
    """Ten clips of one second each, one every half second of the recording."""
    results: list[ClipResult] = []
    rec = recorder(root, results, CLIP)
    events = {i: "count" for i in range(5, 55, 5)}
    play(AvSource("cam", AvSourceConfig(path=h264, pace="fast")), rec, events)
    rec.close()
    for result in results:
        if result.path is not None:
            media.add(result.path)
    on_result.extend(results)


def test_size_cap_holds_over_more_clips_than_fit(h264: Path, tmp_path: Path) -> None:
    media = MediaStore(tmp_path, max_bytes=1_000_000, max_age=3600.0)
    results: list[ClipResult] = []
    _clips(h264, tmp_path, results, media)
    written = [r.path for r in results if r.path is not None]
    sizes = [r.bytes for r in results]
    assert len(written) == 10 and sum(sizes) > 2 * 1_000_000  # far more than fits
    kept = sorted(tmp_path.glob("cam/*.mp4"))
    assert sum(p.stat().st_size for p in kept) <= 1_000_000 == media.max_bytes
    assert kept == sorted(media.files) and media.removed == 10 - len(kept)
    assert set(kept) == set(written[-len(kept) :])  # the newest are the ones kept
    for path in kept:
        probe(path)


def test_age_cap_and_leftover_parts_of_a_killed_run(tmp_path: Path) -> None:
    now = [1_000_000.0]
    (tmp_path / "cam").mkdir()
    old, new, part = (tmp_path / "cam" / n for n in ("old.mp4", "new.mp4", "x.mp4" + PART_SUFFIX))
    for path in (old, new, part):
        path.write_bytes(b"x" * 100)
    os.utime(old, (now[0] - 7200, now[0] - 7200))
    os.utime(new, (now[0] - 60, now[0] - 60))
    media = MediaStore(tmp_path, max_bytes=10**6, max_age=3600.0, clock=lambda: now[0])
    assert media.files == [new] and not old.exists() and not part.exists()
    now[0] += 3600
    media.prune()
    assert media.files == [] and not new.exists()


def fill(mount: Path) -> None:
    """Fill the file system at ``mount`` up to the last byte."""
    with (mount / "filler").open("ab") as filler:
        try:
            while True:
                filler.write(b"\0" * 65536)
                filler.flush()
        except OSError:
            pass


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 4 MiB tmpfs (the tests run as root, as CI does)."""
    if os.geteuid() != 0:
        pytest.fail("the full-disk tests mount a tmpfs: run the tests as root (CI does)")
    mount = tmp_path / "disk"
    mount.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(mount)], check=True)
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=True)


@pytest.fixture
def full_disk(small_disk: Path) -> Path:
    """The small tmpfs, filled up."""
    fill(small_disk)
    return small_disk


def test_full_disk_writes_no_clip_and_warns_once(
    h264: Path, full_disk: Path, caplog: pytest.LogCaptureFixture
) -> None:
    media = MediaStore(full_disk, max_bytes=10**9, max_age=3600.0)
    results: list[ClipResult] = []
    with caplog.at_level(logging.WARNING):
        _clips(h264, full_disk, results, media)
    assert len(results) == 10 and all(r.disk_full and r.path is None for r in results)
    warnings = [r for r in caplog.records if "disk full" in r.getMessage()]
    assert len(warnings) == 1
    assert not list(full_disk.glob("cam/*"))  # nothing half-written left behind


def test_a_write_that_meets_a_full_disk_leaves_nothing(h264: Path, full_disk: Path) -> None:
    from edgecam.clips.mp4 import ClipWriteError, write_mp4
    from edgecam.clips.ring import PacketRing, copy_template

    ring = PacketRing(10**8)
    source = AvSource("cam", AvSourceConfig(path=h264, pace="fast"))
    source.keep_packets(True)
    source.open()
    template = copy_template(source._stream)
    while source.read() is not None:
        for packet in source.take_packets():
            ring.append(packet, 0.0, bool(packet.is_keyframe))
    source.close()
    (full_disk / "filler").unlink()
    fill(full_disk)  # the clip is larger than what is left, but the write begins
    packets = list(ring._packets)
    with pytest.raises(ClipWriteError) as err:
        write_mp4(full_disk / "cam" / "x.mp4", template, packets)
    assert err.value.disk_full
    assert not list(full_disk.rglob("*.mp4*"))
