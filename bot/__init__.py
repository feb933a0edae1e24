"""The Rasa project of the 质量门诊 assistant: domain, training data and custom actions."""
