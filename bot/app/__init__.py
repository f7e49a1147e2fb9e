"""Start-up: the command line, the wiring that builds everything from the settings, the runtime and
the per-platform setup; the only room that imports both the services and the handlers."""
