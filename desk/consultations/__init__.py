"""质量门诊 consultations (§5.3 a): what an expert reads, writes and decides in the console."""
