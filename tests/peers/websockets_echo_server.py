# Echo server on Python's `websockets` package (asyncio API), configured as for
# Autobahn's reference verdicts (max_size 32 MiB). Binds 127.0.0.1 on the port
# given (0 = any) and prints "listening PORT" once ready.
import asyncio
import sys

from websockets.asyncio.server import serve


async def echo(ws):
    async for msg in ws:
        await ws.send(msg)


async def main(port):
    async with serve(echo, "127.0.0.1", port, max_size=2**25, max_queue=1) as server:
        bound = server.sockets[0].getsockname()[1]
        print(f"listening {bound}", flush=True)
        await asyncio.get_running_loop().create_future()


asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 0))
