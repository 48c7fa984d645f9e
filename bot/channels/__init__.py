"""Input channels for feature phones: Twilio voice (speech and keypad) and SMS, registered in
bot/credentials.yml by module path. The modules other than voice.py and sms.py are pure and do
not import Rasa, so they are tested on the project's main Python too."""
