"""The model families' maths, backend-neutral: ``bm`` (Kim 2024) and ``nla`` (Senn et al. 2024)."""
