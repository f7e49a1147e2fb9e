"""Reports: the lifecycle and filing, casework by operators, who may act, cards, routing,
deadlines and the SLA scheduler."""
