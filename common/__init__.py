"""Rules both Python environments need (the case service's `.venv` and Rasa's `.venv-rasa`):
case numbers, digits as residents say and key them, phone numbers. Standard library only, so the
two environments can never carry two copies that drift apart."""
