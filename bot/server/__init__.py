"""Rasa's server as this project starts it: Rasa 3.6 plus the start-up patches in ``patches``."""
