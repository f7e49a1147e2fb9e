"""Repeated reports (повторные обращения): when two reports are one problem, so the intake can
offer the open one and operators can merge them into an incident."""
