#!/usr/bin/env python3
"""A TCP proxy on 127.0.0.1 whose link can be cut and frozen, for the fault
tests: it sits between a process and a server (a cluster node and its
PostgreSQL) and, on a signal, fails the way a network does.

    tools/tcp-proxy.py TARGET_HOST TARGET_PORT [--listen-unix PATH]

Prints the port it listens on (one line), then serves until SIGTERM. A
TARGET_HOST that starts with "/" is a Unix socket's path (TARGET_PORT is
then ignored); with --listen-unix it listens on that Unix socket instead of
a TCP port (PostgreSQL's own private sockets, for tools/cluster.sh), and
prints 0.
  SIGUSR1  cut: every connection is reset and new ones are refused (the
           listening socket closes), as when the server's host is
           unreachable;
  SIGUSR2  freeze: connections stay open but no byte is passed on either
           way, and new ones are accepted and hang: as a server (or a
           pooler before it) that stopped answering. The proxy's own TCP
           still acknowledges, so TCP timeouts do not fire: only the
           caller's own deadlines help;
  SIGHUP   heal: listening again on the same port, bytes moving again.
Once a change took effect it writes a line to stderr ("tcp-proxy: cut",
"tcp-proxy: frozen", "tcp-proxy: healed"): a test that signals it waits for
that line, since the proxy takes a signal only when it next runs.
"""
import asyncio
import os
import signal
import socket
import sys


class Proxy:
    def __init__(self, host, port, listen_unix=None):
        self.target = (host, port)
        self.listen_unix = listen_unix
        self.links = set()  # (reader task, writer task, writers)
        self.moving = asyncio.Event()
        self.moving.set()
        self.server = None
        self.port = 0

    async def pump(self, reader, writer):
        try:
            while True:
                data = await reader.read(65536)
                if not data:
                    break
                await self.moving.wait()
                writer.write(data)
                await writer.drain()
        except (ConnectionError, OSError, asyncio.CancelledError):
            pass
        finally:
            writer.close()

    async def accept(self, client_r, client_w):
        await self.moving.wait()
        try:
            if self.target[0].startswith("/"):
                server_r, server_w = await asyncio.open_unix_connection(
                    self.target[0])
            else:
                server_r, server_w = await asyncio.open_connection(
                    *self.target)
        except OSError:
            client_w.close()
            return
        up = asyncio.ensure_future(self.pump(client_r, server_w))
        down = asyncio.ensure_future(self.pump(server_r, client_w))
        link = (up, down, client_w, server_w)
        self.links.add(link)
        await asyncio.gather(up, down, return_exceptions=True)
        self.links.discard(link)

    async def listen(self):
        if self.listen_unix is not None:
            if os.path.exists(self.listen_unix):
                os.unlink(self.listen_unix)
            self.server = await asyncio.start_unix_server(
                self.accept, path=self.listen_unix)
            os.chmod(self.listen_unix, 0o600)
            return
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", self.port))
        self.port = sock.getsockname()[1]
        self.server = await asyncio.start_server(self.accept, sock=sock)

    def cut(self):
        if self.server is not None:
            self.server.close()
            self.server = None
        for up, down, client_w, server_w in list(self.links):
            for w in (client_w, server_w):
                try:
                    sock = w.get_extra_info("socket")
                    if sock is not None and sock.family != socket.AF_UNIX:
                        # A reset, not an orderly close.
                        sock.setsockopt(
                            socket.SOL_SOCKET, socket.SO_LINGER,
                            b"\x01\x00\x00\x00\x00\x00\x00\x00")
                except OSError:
                    pass  # closed already by its other end
                w.transport.abort()  # nothing buffered goes out
            up.cancel()
            down.cancel()
        said("cut")

    def freeze(self):
        self.moving.clear()
        said("frozen")

    async def heal(self):
        self.moving.set()
        if self.server is None:
            await self.listen()
        said("healed")


def said(change):
    print("tcp-proxy: " + change, file=sys.stderr, flush=True)


async def main():
    listen_unix = None
    if len(sys.argv) == 5 and sys.argv[3] == "--listen-unix":
        listen_unix = sys.argv[4]
    elif len(sys.argv) != 3:
        sys.exit(__doc__)
    proxy = Proxy(sys.argv[1], int(sys.argv[2]), listen_unix)
    await proxy.listen()
    print(proxy.port, flush=True)
    loop = asyncio.get_running_loop()
    done = asyncio.Event()
    loop.add_signal_handler(signal.SIGUSR1, proxy.cut)
    loop.add_signal_handler(signal.SIGUSR2, proxy.freeze)
    loop.add_signal_handler(signal.SIGHUP,
                            lambda: asyncio.ensure_future(proxy.heal()))
    loop.add_signal_handler(signal.SIGTERM, done.set)
    await done.wait()


if __name__ == "__main__":
    asyncio.run(main())
