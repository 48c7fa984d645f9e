"""Custom Rasa pipeline components (loaded by module path from config.yml)."""
