"""NLP core of the hotline: taxonomy, text normalisation, the triage classifier."""
