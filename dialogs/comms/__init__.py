"""The comms team's notice composer: the draft, its audience rules and the typed-input parsing.

Pure Python over the services: no messenger library and no SQL, so the Telegram adapter only
translates updates and renders what comes back.
"""
