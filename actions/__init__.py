"""Rasa SDK custom actions for the hotline bot. Runs in the Rasa environment (Python 3.10);
the modules other than ``actions.actions`` and ``actions.forms`` are pure and import no Rasa."""
