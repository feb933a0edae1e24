"""The public self-service catalogue (Appendix A, §7.2.1): domains, services, institutions and
stations of the live knowledge, browsable and searchable without login."""
