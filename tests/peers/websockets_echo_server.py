# Echo server on Python's `websockets` package (asyncio API), configured as for
# Autobahn's reference verdicts (max_size 32 MiB). Binds 127.0.0.1 on the port
# given (0 = any) and prints "listening PORT" once ready. With TLS_CERT and
# TLS_KEY (PEM files) in the environment it serves wss:// instead.
import asyncio
import os
import ssl
import sys

from websockets.asyncio.server import serve


async def echo(ws):
    async for msg in ws:
        await ws.send(msg)


def tls_context():
    if "TLS_CERT" not in os.environ:
        return None
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(os.environ["TLS_CERT"], os.environ["TLS_KEY"])
    return context


async def main(port):
    async with serve(
        echo, "127.0.0.1", port, max_size=2**25, max_queue=1, ssl=tls_context()
    ) as server:
        bound = server.sockets[0].getsockname()[1]
        print(f"listening {bound}", flush=True)
        await asyncio.get_running_loop().create_future()


asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 0))
