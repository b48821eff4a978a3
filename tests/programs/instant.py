"""Ends at once: profiling finds nothing to sample."""
print("instant")
