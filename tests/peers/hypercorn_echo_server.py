# Echo server on Hypercorn (PyPI), an ASGI server whose HTTP/2 carries
# WebSockets as RFC 8441 extended-CONNECT streams: the same port serves
# HTTP/1.1 upgrades (ws://) and HTTP/2 with prior knowledge (h2c://). Binds
# 127.0.0.1 on the port given (0 = a free one) and prints "listening PORT" once
# it accepts connections.
import asyncio
import socket
import sys

from hypercorn.asyncio import serve
from hypercorn.config import Config


async def app(scope, receive, send):
    if scope["type"] == "lifespan":
        while True:
            event = await receive()
            if event["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif event["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return
    if scope["type"] == "http":
        await send({"type": "http.response.start", "status": 404, "headers": []})
        await send({"type": "http.response.body", "body": b""})
        return
    event = await receive()
    if event["type"] != "websocket.connect":
        return
    await send({"type": "websocket.accept"})
    while True:
        event = await receive()
        if event["type"] == "websocket.disconnect":
            return
        if event.get("text") is not None:
            await send({"type": "websocket.send", "text": event["text"]})
        else:
            await send({"type": "websocket.send", "bytes": event["bytes"]})


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def main(port):
    port = port or free_port()
    config = Config()
    config.bind = [f"127.0.0.1:{port}"]
    config.websocket_max_message_size = 2**25
    config.accesslog = None
    config.errorlog = None
    server = asyncio.create_task(serve(app, config))
    while True:
        try:
            _, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.close()
            break
        except OSError:
            if server.done():
                server.result()
            await asyncio.sleep(0.05)
    print(f"listening {port}", flush=True)
    await server


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 0))
