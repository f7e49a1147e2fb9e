"""The TCP proxy of the fault suite (tests/harness/proxy.py): it forwards, a cut resets live and new
connections at once, a restore forwards again; against a tiny echo server, the real PostgreSQL
(asyncpg through SQLAlchemy) and Redis."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from tests.harness.proxy import TcpProxy
from tests.harness.stores import postgres_url, redis_url

# Every failure a cut causes must surface well within this (it is a bound, not a timing).
QUICKLY = 5.0


async def _echo(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    with contextlib.suppress(OSError):
        while data := await reader.read(1024):
            writer.write(data)
            await writer.drain()
    writer.close()


@pytest.fixture
async def echo_port() -> AsyncIterator[int]:
    server = await asyncio.start_server(_echo, "127.0.0.1", 0)
    yield int(server.sockets[0].getsockname()[1])
    server.close()


async def _round_trip(port: int, payload: bytes) -> bytes:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(payload)
        await writer.drain()
        return await asyncio.wait_for(reader.readexactly(len(payload)), QUICKLY)
    finally:
        writer.close()


async def _select_one(engine: AsyncEngine) -> object:
    async with engine.connect() as connection:
        return await connection.scalar(text("SELECT 1"))


async def _read_fails(reader: asyncio.StreamReader) -> bool:
    """Whether the connection is gone: EOF or a reset, without waiting for data that never comes."""
    try:
        return await asyncio.wait_for(reader.read(1024), QUICKLY) == b""
    except (ConnectionResetError, BrokenPipeError):
        return True


async def test_forwards_cuts_and_restores_around_an_echo_server(echo_port: int) -> None:
    async with TcpProxy("127.0.0.1", echo_port) as proxy:
        assert await _round_trip(proxy.port, b"ping") == b"ping"
        reader, writer = await asyncio.open_connection("127.0.0.1", proxy.port)
        writer.write(b"hello")
        assert await asyncio.wait_for(reader.readexactly(5), QUICKLY) == b"hello"
        assert proxy.live == 1

        proxy.cut()
        assert await _read_fails(reader)
        writer.close()
        assert proxy.is_cut and proxy.live == 0
        # While cut, a new connection is accepted and reset at once.
        late_reader, late_writer = await asyncio.open_connection("127.0.0.1", proxy.port)
        assert await _read_fails(late_reader)
        late_writer.close()

        proxy.restore()
        assert await _round_trip(proxy.port, b"again") == b"again"
        big = bytes(range(256)) * 1024
        assert await _round_trip(proxy.port, big) == big
    assert (proxy.accepted, proxy.forwarded, proxy.dropped, proxy.cuts) == (5, 4, 2, 1)
    assert proxy.bytes_up == proxy.bytes_down == 4 + 5 + 5 + len(big)
    with pytest.raises(OSError):
        await asyncio.open_connection("127.0.0.1", proxy.port)


async def test_a_target_that_is_not_there_closes_the_client_connection(unused_tcp_port: int) -> None:
    async with TcpProxy("127.0.0.1", unused_tcp_port) as proxy:
        reader, writer = await asyncio.open_connection("127.0.0.1", proxy.port)
        assert await _read_fails(reader)
        writer.close()
    assert (proxy.accepted, proxy.forwarded, proxy.upstream_failures) == (1, 0, 1)


def test_only_loopback_targets_and_urls_through_the_proxy() -> None:
    with pytest.raises(ValueError, match="loopback"):
        TcpProxy("10.0.0.1", 5432)
    proxy = TcpProxy("127.0.0.1", 5432)
    proxy._port = 40001  # as if started
    assert proxy.url("postgresql+asyncpg://postgres:pw@127.0.0.1:5432/test_h3?ssl=disable") == (
        "postgresql+asyncpg://postgres:pw@127.0.0.1:40001/test_h3?ssl=disable"
    )
    assert proxy.url("redis://127.0.0.1:6379/13") == "redis://127.0.0.1:40001/13"


async def test_postgres_through_the_proxy_fails_fast_when_cut_and_recovers() -> None:
    url = postgres_url()
    if url is None:
        pytest.skip("PostgreSQL not configured (DATABASE_URL)")
    target = target_of(url)
    async with TcpProxy(*target) as proxy:
        engine = create_async_engine(proxy.url(url))
        try:
            async with engine.connect() as connection:
                assert await connection.scalar(text("SELECT 1")) == 1
                proxy.cut()
                with pytest.raises(DBAPIError):
                    await asyncio.wait_for(connection.scalar(text("SELECT 2")), QUICKLY)
            # While cut, a new connection fails at once too.
            with pytest.raises((DBAPIError, OSError)):
                await asyncio.wait_for(_select_one(engine), QUICKLY)
            proxy.restore()
            async with engine.connect() as connection:
                assert await connection.scalar(text("SELECT 3")) == 3
        finally:
            await engine.dispose()
    assert proxy.dropped >= 2 and proxy.forwarded >= 2


async def test_redis_through_the_proxy_fails_fast_when_cut_and_recovers() -> None:
    url = redis_url()
    if url is None:
        pytest.skip("Redis not configured (REDIS_URL)")
    from redis.asyncio import Redis
    from redis.exceptions import ConnectionError as RedisConnectionError

    host, port = target_of(url)
    async with TcpProxy(host, port) as proxy:
        client = Redis.from_url(proxy.url(url), retry_on_timeout=False)
        try:
            assert await client.ping()
            proxy.cut()
            with pytest.raises(RedisConnectionError):
                await asyncio.wait_for(client.ping(), QUICKLY)
            proxy.restore()
            assert await client.ping()
        finally:
            await client.aclose()


def target_of(url: str) -> tuple[str, int]:
    """(host, port) a database URL points at."""
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    assert parts.hostname is not None and parts.port is not None
    return parts.hostname, parts.port
