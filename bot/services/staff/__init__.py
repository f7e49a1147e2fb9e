"""Staff: the registry and its rights, the audit trail, the municipal centre's view."""
