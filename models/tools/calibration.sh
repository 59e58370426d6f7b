# The calibration frames of the built-in int8 models: the demo clip and the test images.
# (vtest.avi is held out: the fidelity tests measure on it.)
CALIBRATION=(--calibration edgecam/data/demo.mp4)
for image in astronaut.png chelsea.png coffee.png dog.jpg messi5.jpg person.jpg; do
  CALIBRATION+=(--calibration "tests/data/$image")
done
