"""The Rasa side of the hotline: domain, rules and stories (data/), conversation tests (tests/)
and the project's own input channels (channels/)."""
