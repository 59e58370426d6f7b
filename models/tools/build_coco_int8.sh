#!/usr/bin/env bash
# Rebuild models/mobilenet_ssd_v2_coco_int8_postprocess.tflite from Coral's uint8 model.
# Needs the quantize extra: .venv/bin/pip install -e '.[quantize]' (no TensorFlow).
set -euo pipefail
cd "$(dirname "$0")/../.."
source models/tools/calibration.sh
.venv/bin/edgecam quantize models/mobilenet_ssd_v2_coco_quant_postprocess.tflite \
  "${CALIBRATION[@]}" -o models/mobilenet_ssd_v2_coco_int8_postprocess.tflite
sha256sum models/mobilenet_ssd_v2_coco_int8_postprocess.tflite
