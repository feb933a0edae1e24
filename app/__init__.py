"""The composition root: the only package that imports both `channels` and `desk` (DESIGN §3)."""
