"""Custom Rasa NLU components (loaded by Rasa from bot/config.yml)."""
