"""Second-stage classification: what a tracked object is (a bird's species, which dog)."""
