"""Running models: the simulate/train pipelines and writing their outputs."""
