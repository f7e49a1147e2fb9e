"""Delivery: the outbox (every outgoing message, written in the transaction that causes it), the
worker that sends it within each platform's limits, the pacing, and the messenger ports. It knows
no domain: policies such as quiet hours are injected."""
