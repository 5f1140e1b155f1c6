"""A health probe for container engines that cannot send an HTTP request themselves (Compose).

``python probe.py [PATH]`` asks this container's web process for PATH (``/gezondheid/klaar``) and
exits 0 on 200, 1 otherwise. It sends the first of ``DJANGO_ALLOWED_HOSTS`` as the Host header,
because Django refuses other hosts. Kubernetes needs none of this: it probes with ``httpGet``.
"""

from __future__ import annotations

import http.client
import os
import sys

PORT = 8000  # the port the image's web process listens on (deploy/Containerfile)
TIMEOUT = 5.0  # seconds; every readiness check gets at most 2 (blauweknop.health)


def probe(path: str, port: int, host: str) -> bool:
    """Whether ``GET path`` on this machine's ``port``, for virtual host ``host``, answers 200."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=TIMEOUT)
    try:
        connection.request("GET", path, headers={"Host": host})
        return connection.getresponse().status == 200
    except OSError:
        return False
    finally:
        connection.close()


def main(argv: list[str]) -> int:
    """Exit status 0 when the web process is ready, 1 when it is not."""
    path = argv[1] if len(argv) > 1 else "/gezondheid/klaar"
    # ".example.nl" allows every subdomain; "*" any host: then any name will do.
    host = os.environ.get("DJANGO_ALLOWED_HOSTS", "localhost").split(",")[0].strip().lstrip(".")
    return 0 if probe(path, PORT, host if host not in ("", "*") else "localhost") else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
