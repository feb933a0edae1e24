"""A TCP proxy on 127.0.0.1 for fault tests: what clients see when a server restarts.

``TcpProxy(port)`` forwards every connection made to ``proxy.port`` to ``127.0.0.1:port``.
``proxy.outage(seconds)`` drops every open connection and stops listening, so new ones are
refused, then listens again on the same port: exactly what PostgreSQL's or Redis's clients
see while the server restarts, without touching the real server (others use it).
It runs its own event loop in a daemon thread; ``close()`` ends it.
"""

import asyncio
import contextlib
import socket
import threading
import time


class TcpProxy:
    def __init__(self, target_port: int, *, target_host: str = "127.0.0.1") -> None:
        self._target = (target_host, target_port)
        self._loop = asyncio.new_event_loop()
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self._down_until = 0.0
        self.connections = 0  # accepted since start
        self.dropped = 0  # connections cut by outages
        with socket.socket() as probe:  # a free port, kept across outages
            probe.bind(("127.0.0.1", 0))
            self.port: int = probe.getsockname()[1]
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._thread.start()
        self._call(self._listen())

    def _call(self, coroutine):  # type: ignore[no-untyped-def]
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(timeout=10)

    async def _listen(self) -> None:
        self._server = await asyncio.start_server(
            self._serve, "127.0.0.1", self.port, reuse_address=True
        )

    async def _serve(self, client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            server_r, server_w = await asyncio.open_connection(*self._target)
        except OSError:
            client_w.close()
            return
        self._writers.update((client_w, server_w))

        async def pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            with contextlib.suppress(OSError, asyncio.CancelledError):
                while data := await reader.read(65536):
                    writer.write(data)
                    await writer.drain()
            writer.close()

        try:
            await asyncio.gather(pipe(client_r, server_w), pipe(server_r, client_w))
        finally:
            self._writers.difference_update((client_w, server_w))

    async def _drop(self) -> None:
        if self._server is not None:
            self._server.close()  # refuse new connections: nothing listens on the port
            self._server = None
        writers, self._writers = set(self._writers), set()
        for writer in writers:  # cut: both sides see the connection reset
            self.dropped += 1
            transport = writer.transport
            if isinstance(transport, asyncio.Transport):
                transport.abort()

    def down(self) -> None:
        """Drop every connection and refuse new ones until :meth:`up`."""
        self._call(self._drop())

    def up(self) -> None:
        if self._server is None:
            self._call(self._listen())

    @contextlib.contextmanager
    def outage(self, seconds: float):  # type: ignore[no-untyped-def]
        """Down now, up again ``seconds`` later (in the background); yields at once."""
        self.down()
        timer = threading.Timer(seconds, self.up)
        timer.start()
        try:
            yield
        finally:
            timer.join()

    def wait_up(self, timeout_s: float = 30.0) -> None:
        deadline = time.monotonic() + timeout_s
        while self._server is None and time.monotonic() < deadline:
            time.sleep(0.05)

    async def _shut(self) -> None:
        await self._drop()
        tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self._call(self._shut())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=5)
        self._loop.close()
