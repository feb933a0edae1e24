"""Live updates: wake-ups across processes and the console's event stream (SSE)."""
