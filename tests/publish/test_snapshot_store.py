"""The snapshot store: a sink that keeps event JPEGs on disk within count and size limits."""

from __future__ import annotations

from pathlib import Path

from edgecam.publish.snapshots import SnapshotStore, SnapshotStoreConfig


def test_store_keeps_count_and_size_limits(tmp_path: Path) -> None:
    store = SnapshotStore(SnapshotStoreConfig(path=tmp_path, max_files=3, max_bytes=10_000))
    for i in range(5):
        store.snapshot("cam", f"rule{i}", b"x" * 1000)
    assert [p.name.split("_")[-1] for p in store.files] == ["rule2.jpg", "rule3.jpg", "rule4.jpg"]
    assert sorted(tmp_path.glob("cam/*.jpg")) == sorted(store.files)
    store.snapshot("cam", "big", b"x" * 9500)
    assert [p.name.split("_")[-1] for p in store.files] == ["big.jpg"]
    # A restart picks up what is on disk.
    again = SnapshotStore(SnapshotStoreConfig(path=tmp_path, max_files=3, max_bytes=10_000))
    assert again.files == store.files
