"""Exit 0 when a TCP port answers: `make test` uses it to decide which test servers to use."""

import socket
import sys

try:
    with socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=1.0):
        pass
except OSError:
    sys.exit(1)
