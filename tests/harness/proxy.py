"""An asyncio TCP proxy on 127.0.0.1 between the bot and a server it depends on (PostgreSQL, Redis).

It forwards bytes both ways until a test cuts it: :meth:`TcpProxy.cut` resets every live connection
at once (both sides see a connection reset, as when the network or the server goes away) and from
then on resets every new connection as soon as it is accepted; :meth:`TcpProxy.restore` forwards
again. Point the bot at :meth:`TcpProxy.url` instead of the server's own URL::

    async with TcpProxy("127.0.0.1", 5432) as proxy:
        engine = create_async_engine(proxy.url(database_url))
        ...
        proxy.cut()      # the database is gone
        proxy.restore()  # and back

Only loopback addresses, on both sides. Stopping is bounded: connections are reset, not drained.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import socket
import struct
from dataclasses import dataclass
from typing import Self
from urllib.parse import urlsplit, urlunsplit

# Connecting to the target and stopping never wait longer than this.
CONNECT_TIMEOUT = 5.0
STOP_TIMEOUT = 5.0
CHUNK = 64 * 1024


def _reset(writer: asyncio.StreamWriter) -> None:
    """Close with an RST (SO_LINGER 0), not a FIN: the peer gets "connection reset" at once."""
    sock = writer.get_extra_info("socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()


@dataclass(eq=False)
class _Link:
    client: asyncio.StreamWriter
    upstream: asyncio.StreamWriter

    def reset(self) -> None:
        _reset(self.client)
        _reset(self.upstream)


class TcpProxy:
    """Forwards connections from 127.0.0.1:``port`` to ``target_host``:``target_port``."""

    def __init__(self, target_host: str, target_port: int) -> None:
        if not ipaddress.ip_address(target_host).is_loopback:
            raise ValueError(f"the proxy forwards to loopback addresses only, not {target_host}")
        self.target_host = target_host
        self.target_port = target_port
        self.accepted = 0
        """Connections accepted from clients, forwarded or not."""
        self.forwarded = 0
        """Connections that reached the target and were forwarded."""
        self.dropped = 0
        """Connections reset by a cut: live at the cut, or accepted while cut."""
        self.upstream_failures = 0
        """Connections closed because the target did not accept them."""
        self.cuts = 0
        self.bytes_up = 0
        self.bytes_down = 0
        self._cut = False
        # Set while answers flow; cleared by hold_answers(), so the target's answers wait here.
        self._answers = asyncio.Event()
        self._answers.set()
        # Set while requests flow; cleared by hold_requests(), so the clients' requests wait here.
        self._requests = asyncio.Event()
        self._requests.set()
        self._server: asyncio.Server | None = None
        self._port = 0
        self._links: set[_Link] = set()
        self._tasks: set[asyncio.Task[None]] = set()

    @property
    def port(self) -> int:
        if not self._port:
            raise RuntimeError("the proxy is not started")
        return self._port

    @property
    def live(self) -> int:
        """Connections being forwarded now."""
        return len(self._links)

    @property
    def is_cut(self) -> bool:
        return self._cut

    def url(self, url: str) -> str:
        """``url`` (``postgresql+asyncpg://user@host:port/db``, ``redis://host:port/0``…), proxied."""
        parts = urlsplit(url)
        userinfo, _, _ = parts.netloc.rpartition("@")
        netloc = f"{userinfo}@127.0.0.1:{self.port}" if userinfo else f"127.0.0.1:{self.port}"
        return urlunsplit(parts._replace(netloc=netloc))

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self._port = int(self._server.sockets[0].getsockname()[1])

    async def stop(self) -> None:
        """Stop listening, reset every connection and wait (bounded) for the forwarding to end."""
        if self._server is not None:
            self._server.close()
            self._server = None
        for link in list(self._links):
            link.reset()
        tasks = list(self._tasks)
        if tasks:
            _, stuck = await asyncio.wait(tasks, timeout=STOP_TIMEOUT)
            for task in stuck:
                task.cancel()
            await asyncio.gather(*stuck, return_exceptions=True)

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    def cut(self) -> None:
        """Reset every live connection now, and every new one as soon as it is accepted."""
        self._cut = True
        self.cuts += 1
        for link in list(self._links):
            self.dropped += 1
            link.reset()

    def restore(self) -> None:
        """Forward new connections again (connections reset by the cut stay gone)."""
        self._cut = False

    def hold_answers(self) -> None:
        """Keep what the target answers from the clients: requests arrive, answers wait in the proxy
        (a process killed after it acted and before its answer left, as seen from the client)."""
        self._answers.clear()

    def release_answers(self) -> None:
        """Let held and new answers through again."""
        self._answers.set()

    def hold_requests(self) -> None:
        """Keep what clients send from the target: a request waits in the proxy, never arrives
        (a process killed while its request is on the way)."""
        self._requests.clear()

    def release_requests(self) -> None:
        """Let held and new requests through again."""
        self._requests.set()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        if task is not None:
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        self.accepted += 1
        if self._cut:
            self.dropped += 1
            _reset(writer)
            return
        try:
            up_reader, up_writer = await asyncio.wait_for(
                asyncio.open_connection(self.target_host, self.target_port), CONNECT_TIMEOUT
            )
        except (OSError, TimeoutError):
            self.upstream_failures += 1
            _reset(writer)
            return
        link = _Link(writer, up_writer)
        if self._cut:  # cut while connecting to the target
            self.dropped += 1
            link.reset()
            return
        self.forwarded += 1
        self._links.add(link)
        try:
            await self._forward(reader, up_reader, link)
        finally:
            self._links.discard(link)

    async def _forward(
        self, reader: asyncio.StreamReader, up_reader: asyncio.StreamReader, link: _Link
    ) -> None:
        up = asyncio.ensure_future(self._pump(reader, link.upstream, upstream=True))
        down = asyncio.ensure_future(self._pump(up_reader, link.client, upstream=False))
        try:
            # Either side closing ends the connection: PostgreSQL and Redis never half-close.
            await asyncio.wait({up, down}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for writer in (link.client, link.upstream):
                writer.close()
            for pump in (up, down):
                pump.cancel()
            await asyncio.gather(up, down, return_exceptions=True)

    async def _pump(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, *, upstream: bool
    ) -> None:
        with contextlib.suppress(OSError, asyncio.IncompleteReadError):
            # Ends at EOF or when the connection is reset (a cut, stop, or either peer going away).
            while data := await reader.read(CHUNK):
                if upstream:
                    self.bytes_up += len(data)
                    await self._requests.wait()
                else:
                    self.bytes_down += len(data)
                    await self._answers.wait()
                writer.write(data)
                await writer.drain()
