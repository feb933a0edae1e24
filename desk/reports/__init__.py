"""Service-level reports (§7.3, §8.1): satisfaction and on-time rates."""
