#!/usr/bin/env bash
# Rebuild models/mobilenet_v2_1.0_224_inat_bird_int8.tflite from Coral's uint8 bird classifier.
# Needs the quantize extra: .venv/bin/pip install -e '.[quantize]' (no TensorFlow). The uint8
# model's own activation ranges are kept, so no calibration crops are needed.
set -euo pipefail
cd "$(dirname "$0")/../.."
.venv/bin/edgecam quantize birds -o models/mobilenet_v2_1.0_224_inat_bird_int8.tflite
sha256sum models/mobilenet_v2_1.0_224_inat_bird_int8.tflite
