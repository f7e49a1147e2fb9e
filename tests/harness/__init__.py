"""Drivers and helpers the tests import (fixtures stay in conftest.py)."""
