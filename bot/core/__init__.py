"""The shared vocabulary every room may import: messages (Text, Button, View, Ask, Inbound), i18n,
the clock, settings and log redaction. It imports nothing else of ours."""
