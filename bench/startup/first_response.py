#!/usr/bin/env python3
"""Time from process start to the first complete HTTP response, median of N runs.

usage: first_response.py PORT RUNS -- COMMAND...   (COMMAND must listen on 127.0.0.1:PORT)
Each run starts COMMAND, connects to the port every 0.5 ms until a GET / gets a whole status line,
then kills the process. Bounded: a run gives up after 20 s.
"""
import socket, statistics, subprocess, sys, time

def first_response_ms(port, command):
    start = time.perf_counter()
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        while time.perf_counter() - start < 20:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=2) as s:
                    s.sendall(b"GET /plaintext HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                    data = s.recv(64)
                    if data.startswith(b"HTTP/1.1 "):
                        return (time.perf_counter() - start) * 1000
            except OSError:
                time.sleep(0.0005)
        raise SystemExit(f"no response from {command} within 20 s")
    finally:
        proc.kill()
        proc.wait()

def main():
    port, runs = int(sys.argv[1]), int(sys.argv[2])
    command = sys.argv[sys.argv.index("--") + 1:]
    times = [first_response_ms(port, command) for _ in range(runs)]
    print(f"median {statistics.median(times):.1f} ms, min {min(times):.1f} ms, max {max(times):.1f} ms over {runs} runs: {' '.join(command)}")

main()
