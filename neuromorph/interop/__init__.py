"""Exchange with the rest of the neuromorphic ecosystem: network graphs to and from NIR
(:mod:`.nir`)."""
