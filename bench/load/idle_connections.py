#!/usr/bin/env python3
"""Opens N keep-alive connections (with --tls, TLS connections) to 127.0.0.1:PORT, sends one GET on each and reads its response, then
keeps them all open (idle) and prints "READY <open>" so bench/load.sh can read the server's RSS. Exits
after --hold seconds, or earlier when killed. Every wait is bounded."""
import argparse
import asyncio
import collections
import resource
import ssl
import sys


async def one(port, path, sem, timeout, tls):
    async with sem:  # bound the connects in flight so the listen backlog never overflows
        reader, writer = await asyncio.wait_for(asyncio.open_connection("127.0.0.1", port, ssl=tls), timeout)
        writer.write(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n".encode())
        await writer.drain()
        data = b""
        while b"Hello, World!" not in data:
            chunk = await asyncio.wait_for(reader.read(4096), timeout)
            if not chunk:
                raise ConnectionError("closed before the response")
            data += chunk
        return writer


async def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--count", type=int, default=10000)
    ap.add_argument("--path", default="/plaintext")
    ap.add_argument("--hold", type=float, default=60.0)
    ap.add_argument("--timeout", type=float, default=20.0)
    ap.add_argument("--tls", action="store_true", help="connect with TLS (any certificate accepted: bench/tls.sh)")
    ap.add_argument("--in-flight", type=int, default=256, help="connections being opened at once")
    args = ap.parse_args()
    tls = None
    if args.tls:
        tls = ssl.create_default_context()
        tls.check_hostname = False
        tls.verify_mode = ssl.CERT_NONE

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = args.count + 256
    if soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(want, hard) if hard != resource.RLIM_INFINITY else want, hard))

    sem = asyncio.Semaphore(args.in_flight)
    results = await asyncio.gather(*(one(args.port, args.path, sem, args.timeout, tls) for _ in range(args.count)),
                                   return_exceptions=True)
    writers = [r for r in results if not isinstance(r, BaseException)]
    failed = len(results) - len(writers)
    if failed:
        # Each kind of failure with its count (a server that closes connections whose handshake it did not
        # finish in time shows as "closed before the response": a TLS 1.3 client is done with its side first).
        kinds = collections.Counter(f"{type(r).__name__}: {r}" for r in results if isinstance(r, BaseException))
        summary = "; ".join(f"{n} {kind}" for kind, n in kinds.most_common())
        print(f"failed {failed}: {summary}", file=sys.stderr, flush=True)
    print(f"READY {len(writers)}", flush=True)
    await asyncio.sleep(args.hold)
    for w in writers:
        w.close()


if __name__ == "__main__":
    asyncio.run(main())
