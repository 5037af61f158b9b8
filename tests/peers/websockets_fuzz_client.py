# An Autobahn fuzzing-server client driver of the usual kind, on Python's
# `websockets`: get the case count, run each case echoing every message, then
# update reports. Usage: python websockets_fuzz_client.py ws://127.0.0.1:9001 AGENT
# For wss:// URLs, TLS_CA names the PEM file of the CA to trust.
import asyncio
import os
import ssl
import sys

from websockets.asyncio.client import connect
from websockets.exceptions import WebSocketException

SERVER, AGENT = sys.argv[1], sys.argv[2]
TLS = {}
if "TLS_CA" in os.environ:
    TLS["ssl"] = ssl.create_default_context(cafile=os.environ["TLS_CA"])


async def run_case(n):
    try:
        async with connect(f"{SERVER}/runCase?case={n}&agent={AGENT}", max_size=2**25, max_queue=1, **TLS) as ws:
            async for msg in ws:
                await ws.send(msg)
    except (WebSocketException, OSError, asyncio.IncompleteReadError):
        pass


async def main():
    async with connect(f"{SERVER}/getCaseCount", **TLS) as ws:
        count = int(await ws.recv())
    for n in range(1, count + 1):
        try:
            await asyncio.wait_for(run_case(n), 60)
        except asyncio.TimeoutError:
            print(f"case {n}: client-side timeout", flush=True)
    try:
        async with connect(f"{SERVER}/updateReports?agent={AGENT}&shutdownOnComplete=true", **TLS):
            pass
    except (WebSocketException, OSError):
        pass


asyncio.run(main())
