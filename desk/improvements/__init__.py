"""The improvement loop (§8.1.3, §8.2): dissatisfied evaluations and upheld complaints become
items that are worked, re-checked and closed with evidence."""
