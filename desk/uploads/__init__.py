"""Uploaded files: limits, content sniffing, storage outside the web root, metadata rows."""
