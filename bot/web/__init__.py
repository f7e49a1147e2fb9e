"""HTTP: the aiohttp application the product serves (health, webhooks; later the API and pages)."""
