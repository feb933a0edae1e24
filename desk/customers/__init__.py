"""Customers (§7.1): ordinary and enterprise users, verification, consent to the privacy notice."""
