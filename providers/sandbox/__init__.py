"""Stateful emulators of the Twilio and LiveKit APIs, for development and tests."""
