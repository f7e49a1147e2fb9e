"""The services, one package per domain; each owns its queries and exposes a small API."""
