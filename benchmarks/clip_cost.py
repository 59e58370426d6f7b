"""CPU per frame of event clips, on versus off, on the demo clip.

Two ways a camera feeds its clip ring, each against the same camera with clips off:
- ``encode``: the demo clip as it is (MPEG-4 Part 2, 768x576, 10 fps): nothing H.264 to keep,
  so frames are encoded (x264 ultrafast, scaled to 640 wide, one thread);
- ``remux``: the demo clip as H.264 (as from an RTSP camera) through the PyAV source: packets kept
  as they are.

Process CPU time (every thread: capture, encoder) per frame, over all frames of the clip, rounds
of off and on interleaved so that machine load hits both alike; the median round is reported.
A detector inference per frame is timed too, for scale.

    python -m benchmarks.clip_cost [--rounds 5] [--json]
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from benchmarks.clips import read_clip
from edgecam import bundled
from edgecam.camera.av import AvSource, AvSourceConfig
from edgecam.camera.base import FrameSource
from edgecam.camera.file import FileSource, FileSourceConfig
from edgecam.clips.config import ClipsConfig, RuleClipConfig
from edgecam.clips.recorder import ClipRecorder, RuleClips
from edgecam.types import Frame


def _h264(path: Path) -> Path:
    from fractions import Fraction

    import av

    images = read_clip()
    with av.open(str(path), "w") as out:
        stream = out.add_stream("libx264", rate=10, options={"g": "10", "bf": "0"})
        stream.width, stream.height, stream.pix_fmt = 768, 576, "yuv420p"
        for index, image in enumerate(images):
            frame = av.VideoFrame.from_ndarray(image, format="bgr24")
            frame.pts, frame.time_base = index, Fraction(1, 10)
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    return path


def one_pass(make: Callable[[], FrameSource], clips: bool, root: Path) -> tuple[float, int]:
    """CPU seconds and frames for reading the whole clip, with or without the clip tap."""
    source = make()
    recorder = ClipRecorder(
        ClipsConfig(), {"r": RuleClips("cam", RuleClipConfig())}, root,
        base_url="http://x", on_result=lambda _r: None,
    )  # fmt: skip
    tap = recorder.tap("cam", source) if clips else None
    source.open()
    frames = 0
    started = time.process_time()
    while (image := source.read()) is not None:
        if tap is not None:
            tap.frame(Frame(image, frames, frames / 10, 0.0, "cam"))
        frames += 1
    source.close()
    recorder.close()  # waits for the encoder thread: its CPU time is counted
    return time.process_time() - started, frames


def inference_ms(rounds: int = 30) -> float:
    """CPU milliseconds of one detector call on a demo frame (the bundled model, 2 threads)."""
    from edgecam.detect.config import ModelConfig
    from edgecam.detect.detector import Detector

    detector = Detector.from_config(ModelConfig(device="cpu"))
    frame = read_clip(limit=1)[0]
    detector.detect(frame)
    started = time.process_time()
    for _ in range(rounds):
        detector.detect(frame)
    detector.close()
    return (time.process_time() - started) / rounds * 1000


def main(argv: list[str] | None = None) -> int:
    """Print the per-frame cost of clips, off and on, for both ways of feeding the ring."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        h264 = _h264(root / "demo264.mp4")
        demo = FileSourceConfig(path=bundled.demo_clip(), pace="fast")
        sources: dict[str, Callable[[], FrameSource]] = {
            "encode": lambda: FileSource("cam", demo),
            "remux": lambda: AvSource("cam", AvSourceConfig(path=h264, pace="fast")),
        }
        samples: dict[tuple[str, bool], list[float]] = {}
        for _ in range(args.rounds):
            for mode, make in sources.items():
                for clips in (False, True):
                    cpu, frames = one_pass(make, clips, root)
                    samples.setdefault((mode, clips), []).append(cpu / frames * 1000)
        infer = inference_ms()
    result: dict[str, object] = {"inference_ms_per_frame": round(infer, 2)}
    for mode in sources:
        off = statistics.median(samples[(mode, False)])
        on = statistics.median(samples[(mode, True)])
        result[mode] = {
            "off_ms_per_frame": round(off, 3),
            "on_ms_per_frame": round(on, 3),
            "clips_ms_per_frame": round(on - off, 3),
            "clips_vs_decode_plus_inference": f"{(on - off) / (off + infer) * 100:.1f}%",
        }
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        for key, value in result.items():
            print(f"{key}: {value}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
