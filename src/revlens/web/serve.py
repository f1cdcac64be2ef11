"""Serving the web app from several processes, each listening on a socket of its own.

uvicorn's `--workers` shares one listening socket: every idle process is woken for a new
connection and the first to run accepts everything waiting, so a burst of keep-alive
connections (a webhook sender's) can all land on one process while the others idle
(bench/webhook_ingest.py saw it in two runs of four). With SO_REUSEPORT each process has its
own socket on the port and the kernel spreads connections across them.
"""

from __future__ import annotations

import logging
import multiprocessing
import signal
import socket
import sys
import threading
from typing import Any

import uvicorn
from uvicorn.config import STARTUP_FAILURE

log = logging.getLogger(__name__)

APP_FACTORY = "revlens.cli:web_app"


def reuse_port_socket(host: str, port: int, *, shared: bool = True) -> socket.socket:
    """Bind (without listening) a TCP socket that other processes may bind to the same port."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if shared:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    try:
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    return sock


def _serve_one(host: str, port: int, options: dict[str, Any]) -> None:
    """Run one web process: its own socket, its own app built from the environment."""
    try:
        sock = reuse_port_socket(host, port)
        config = uvicorn.Config(APP_FACTORY, factory=True, host=host, port=port, **options)
        config.load()  # the app, now: what fails here would fail every replacement too
    except Exception:
        log.exception("a web process could not start")
        sys.exit(STARTUP_FAILURE)
    uvicorn.Server(config).run(sockets=[sock])


def serve_processes(*, host: str, port: int, workers: int, options: dict[str, Any]) -> int:
    """Run `workers` web processes until SIGINT or SIGTERM, replacing any that dies.

    Returns the exit status: 0, or uvicorn's startup failure when the app cannot start.
    """
    # A plain bind first: it fails if anything holds the port, even another server's shared
    # sockets, which a SO_REUSEPORT bind would silently join. It also fixes a port 0.
    with reuse_port_socket(host, port, shared=False) as probe:
        port = probe.getsockname()[1]
    # Held, not listened on, until the end: the port stays this server's.
    reserved = reuse_port_socket(host, port)
    spawn = multiprocessing.get_context("spawn")
    stop = threading.Event()
    for number in (signal.SIGINT, signal.SIGTERM):
        signal.signal(number, lambda *_: stop.set())

    def start() -> multiprocessing.process.BaseProcess:
        child = spawn.Process(target=_serve_one, args=(host, port, options), daemon=False)
        child.start()
        return child

    children = [start() for _ in range(workers)]
    status = 0
    while not stop.wait(0.5):
        for index, child in enumerate(children):
            if child.is_alive():
                continue
            if child.exitcode == STARTUP_FAILURE:
                log.error("a web process could not start; stopping")
                status = STARTUP_FAILURE
                stop.set()
                break
            log.warning(
                "web process %s ended (status %s); starting another", child.pid, child.exitcode
            )
            children[index] = start()
    for child in children:
        child.terminate()  # SIGTERM: uvicorn finishes the requests in flight
    for child in children:
        child.join(30)
        if child.is_alive():
            child.kill()
            child.join()
    reserved.close()
    return status
