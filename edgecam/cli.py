"""The ``edgecam`` command line (docs/architecture.md, CLI): ``main(argv) -> exit code``."""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from edgecam import __version__
from edgecam.errors import ConfigError, EdgecamError

log = logging.getLogger("edgecam")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="edgecam", description="Object detection camera service for edge devices."
    )
    parser.add_argument("--version", action="version", version=f"edgecam {__version__}")
    parser.add_argument("--debug", action="store_true", help="debug logging and tracebacks")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    run = sub.add_parser("run", help="run the service (no --config: the built-in demo)")
    run.add_argument("--config", type=Path, help="YAML config file")
    run.add_argument(
        "--events", metavar="FILE", help="also write events as JSON lines (- = stdout)"
    )
    run.add_argument("--max-frames", type=_positive_int, help="stop after analysing N frames")

    detect = sub.add_parser("detect", help="detect objects in images, one JSON line per image")
    detect.add_argument("images", nargs="+", type=Path, metavar="IMAGE")
    detect.add_argument(
        "--model", metavar="NAME_OR_PATH", help="built-in name or .tflite file (default: coco)"
    )
    detect.add_argument("--labels", type=Path, help="label file (default: the bundled one)")
    detect.add_argument("--threshold", type=_unit_float, default=0.5, help="minimum score")
    detect.add_argument("--device", default="auto", help="auto, cpu, hailo, usb, usb:N, pci, pci:N")
    detect.add_argument("--hef", type=Path, help="the model compiled for a Hailo (.hef)")
    detect.add_argument("--threads", type=_positive_int, default=2, help="CPU threads")
    detect.add_argument("--resize", choices=["stretch", "letterbox"], default="stretch")
    detect.add_argument(
        "--classify", metavar="NAME_OR_PATH",
        help="also classify what a classifier applies to: birds, imagenet or a .tflite file",
    )  # fmt: skip
    detect.add_argument(
        "--classes", type=Path, help="class file of a --classify .tflite (one class a line)"
    )
    detect.add_argument(
        "--classify-labels", metavar="LABEL,...",
        help="detector labels to classify (default for birds: bird; needed otherwise)",
    )  # fmt: skip

    check = sub.add_parser("check-config", help="validate a config file (exit 0 or 2)")
    check.add_argument("file", type=Path)

    sub.add_parser("schema", help="print the config's JSON Schema")

    notify = sub.add_parser("notify", help="notifications: send a test message")
    notify_sub = notify.add_subparsers(dest="notify_command", required=True, metavar="ACTION")
    notify_test = notify_sub.add_parser("test", help="send one test message with a test image")
    notify_test.add_argument("target", metavar="TARGET", help="a target under notify.targets")
    notify_test.add_argument(
        "--config", type=Path, default=Path("/etc/edgecam/edgecam.yaml"),
        help="YAML config file (default: /etc/edgecam/edgecam.yaml)",
    )  # fmt: skip

    bench = sub.add_parser("bench", help="measure inference and pipeline speed")
    bench.add_argument("--json", action="store_true", help="print one JSON object")
    bench.add_argument("--config", type=Path, help="config whose model section to use")
    bench.add_argument("--iterations", type=_positive_int, default=200, help="bare invokes")
    bench.add_argument("--frames", type=_positive_int, default=600, help="pipeline frames")
    bench.add_argument("--rounds", type=_positive_int, default=5, help="alternating rounds")
    bench.add_argument("--model", metavar="NAME_OR_PATH", help="built-in name or .tflite file")
    bench.add_argument(
        "--all", action="store_true", help="every built-in model in turn (CPU; not with --model)"
    )

    models = sub.add_parser(
        "models", help="list the built-in models and classifiers (with invoke time here)"
    )
    models.add_argument("--json", action="store_true", help="one JSON object per line")
    models.add_argument("--no-time", action="store_true", help="skip timing each model")

    quant = sub.add_parser(
        "quantize", help="make an int8 model from a float or uint8 SSD model or classifier"
    )
    quant.add_argument(
        "model", metavar="MODEL", help="a .tflite SSD model or classifier, or a built-in name"
    )
    quant.add_argument(
        "--calibration", type=Path, action="append", default=[], metavar="DIR_OR_VIDEO",
        help="real frames: a folder of images/videos, an image or a video (repeatable)",
    )  # fmt: skip
    quant.add_argument("-o", "--output", type=Path, required=True, metavar="OUT.tflite")
    quant.add_argument(
        "--frames-per-video", type=_positive_int, default=100, help="frames taken from each video"
    )
    return parser


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be 1 or more")
    return value


def _unit_float(text: str) -> float:
    value = float(text)
    if not 0.0 < value <= 1.0:
        raise argparse.ArgumentTypeError("must be in (0, 1]")
    return value


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; return the process exit code (0 ok, 2 config or usage, 1 runtime failure)."""
    parser = _parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exit_:
        return int(exit_.code or 0)
    _setup_logging(args.debug)
    try:
        return int(_COMMANDS[args.command](args))
    except EdgecamError as err:
        if args.debug:
            log.exception("failed")
        print(f"edgecam: error: {err}", file=sys.stderr)
        return err.exit_code
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return _reader_left()
    except Exception as err:
        if args.debug:
            raise
        print(
            f"edgecam: internal error: {type(err).__name__}: {err} "
            "(run with --debug for a traceback, and please report it)",
            file=sys.stderr,
        )
        return 1


def _reader_left() -> int:
    """Standard output's reader went away (``edgecam schema | head``): end quietly.

    Later writes, including the interpreter's final flush, go to /dev/null instead of raising.
    """
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)
    return 0


def _setup_logging(debug: bool) -> None:
    from edgecam.service.logs import setup_logging

    setup_logging("debug" if debug else "info")


def _cmd_run(args: argparse.Namespace) -> int:
    from edgecam.config import load_config
    from edgecam.service.app import Service
    from edgecam.service.build import Builders
    from edgecam.service.demo import demo_config
    from edgecam.service.logs import set_level

    config = load_config(args.config, check_machine=True) if args.config else demo_config()
    if not args.debug:
        set_level(config.log.level)
    if args.config is None:
        log.info("no --config given: running the built-in demo (bundled clip and model)")
    events = args.events if args.events or args.config else "-"
    service = Service(
        config, Builders.default(events), config_path=args.config, max_frames=args.max_frames
    )
    stats = service.run()
    log.info("stopped: %d frames analysed, %d events", stats.analysed, stats.events)
    return 0


def _cmd_detect(args: argparse.Namespace) -> int:
    from edgecam.detect.choose import open_detector
    from edgecam.detect.config import model_from_args
    from edgecam.imaging import read_image

    fields: dict[str, object] = {
        "threshold": args.threshold, "device": args.device, "threads": args.threads,
        "resize": args.resize,
    }  # fmt: skip
    if args.hef is not None:
        fields["hef"] = args.hef.resolve()
    classify = None
    if args.classify is not None:  # checked first: a bad --classify costs no model load
        from edgecam.classify.oneshot import OneShot, classifier_from_args

        classify = OneShot(classifier_from_args(args.classify, args.classes, args.classify_labels))
    detector = open_detector(model_from_args(args.model, args.labels, fields))
    for path in args.images:
        image = read_image(path)
        detections = detector.detect(image)
        rows = [d.to_json() for d in detections]
        if classify is not None:
            for row, det in zip(rows, detections, strict=True):
                row.update(classify.describe(image, det))
        print(json.dumps({"image": str(path), "detections": rows}), flush=True)
    return 0


def _cmd_check_config(args: argparse.Namespace) -> int:
    from edgecam.config import load_config

    config = load_config(args.file, check_machine=True)
    print(f"{args.file}: OK ({len(config.cameras)} camera(s), {len(config.rules)} rule(s))")
    return 0


def _cmd_schema(_args: argparse.Namespace) -> int:
    from edgecam.config.models import Config

    print(json.dumps(Config.model_json_schema(), indent=2))
    return 0


def _cmd_notify(args: argparse.Namespace) -> int:
    from edgecam.config import load_config
    from edgecam.notify.probe import send_test

    config = load_config(args.config)
    ok, line = send_test(config.notify, args.target, config.device.name)
    print(line)
    return 0 if ok else 1


def _cmd_bench(args: argparse.Namespace) -> int:
    from edgecam.bench import run_bench

    result = run_bench(
        args.config, args.iterations, args.frames, args.rounds, model=args.model, every=args.all
    )
    if args.json:
        print(json.dumps(result))
        return 0
    for row in result.get("models", [result]):  # type: ignore[attr-defined]
        for key, value in row.items():
            print(f"{key:>16}: {value}")
        print()
    if "int8_speedup" in result:
        print(f"int8 COCO invoke speedup over uint8: {result['int8_speedup']}x")
    return 0


def _cmd_models(args: argparse.Namespace) -> int:
    from edgecam import bundled
    from edgecam.classify.catalog import describe_classifier, format_classifiers
    from edgecam.classify.config import CLASSIFIERS
    from edgecam.detect.catalog import describe, format_rows

    rows = [describe(model, timed=not args.no_time) for model in bundled.BUILTINS.values()]
    classifiers = [describe_classifier(c, timed=not args.no_time) for c in CLASSIFIERS.values()]
    if args.json:
        for row in [*rows, *classifiers]:
            print(json.dumps(row))
    else:
        print(format_rows(rows))
        print("\nClassifiers (classify:, edgecam detect --classify):\n")
        print(format_classifiers(classifiers))
    return 0


def _cmd_quantize(args: argparse.Namespace) -> int:
    from edgecam.classify.quantize import is_classifier, quantize_classifier_command, resolve
    from edgecam.detect.quantize import quantize_command

    classifier = resolve(args.model)
    path = Path(args.model)
    if classifier is None and path.suffix == ".tflite" and path.is_file() and is_classifier(path):
        classifier = path
    if classifier is not None:
        return quantize_classifier_command(
            classifier, args.calibration, args.output, args.frames_per_video
        )
    return quantize_command(args.model, args.calibration, args.output, args.frames_per_video)


_COMMANDS = {
    "run": _cmd_run,
    "detect": _cmd_detect,
    "check-config": _cmd_check_config,
    "schema": _cmd_schema,
    "notify": _cmd_notify,
    "bench": _cmd_bench,
    "models": _cmd_models,
    "quantize": _cmd_quantize,
}

if __name__ == "__main__":
    raise SystemExit(main())


__all__ = ["ConfigError", "main"]
