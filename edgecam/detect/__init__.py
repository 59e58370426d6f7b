"""Detection: TFLite runtime and Edge TPU selection, preprocessing and SSD decoding."""
