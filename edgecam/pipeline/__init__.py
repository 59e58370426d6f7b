"""The frame loop: cameras' hand-over, the guarded detector, rules, snapshots and annotation."""
