"""Canned replies: shared and personal answers an expert inserts with `/` and a keyword."""
