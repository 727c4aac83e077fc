#!/usr/bin/env python3
"""The host's end of the vsock tests (tests/linux/vsock_test.sh).

    vsock_peer.py hybrid PATH GUEST_PORT HOST_PORT BYTES
    vsock_peer.py vhost CID GUEST_PORT HOST_PORT BYTES

First listens where the guest will connect (hybrid: the Unix socket
PATH_HOST_PORT; vhost: AF_VSOCK port HOST_PORT), then connects to the
guest's listener on GUEST_PORT (hybrid: "CONNECT GUEST_PORT\\n" on PATH,
answered "OK <port>\\n"; vhost: AF_VSOCK to CID), retrying while the guest
is not listening yet, and exchanges BYTES each way on it; then accepts the
guest's connection and does the same. The patterns are those of
tests/linux/vsockt.c: byte i is ((i % 65521) * 131 + DIR * 77) & 0xff, DIR
1 guest-to-host, 2 host-to-guest. Exits 0 when every byte matched.
"""
import os
import select
import socket
import sys
import time

PERIOD = 65521
TO_HOST, TO_GUEST = 1, 2


def pattern(n, direction):
    block = bytes(((i * 131 + direction * 77) & 0xFF) for i in range(PERIOD))
    return (block * (n // PERIOD + 1))[:n]


def log(msg):
    print(f"vsock_peer: {msg}", flush=True)


def exchange(sock, nbytes, what):
    out = memoryview(pattern(nbytes, TO_GUEST))
    want = pattern(nbytes, TO_HOST)
    got = bytearray()
    sent, shut = 0, False
    sock.setblocking(False)
    eof = False
    # Until both: everything sent, and the guest's EOF.
    while not eof or sent < nbytes:
        if sent == nbytes and not shut:
            sock.shutdown(socket.SHUT_WR)
            shut = True
        wl = [sock] if sent < nbytes else []
        rl = [] if eof else [sock]
        r, w, _ = select.select(rl, wl, [], 120)
        if not r and not w:
            sys.exit(f"vsock_peer: {what}: no progress for 120 s "
                     f"(sent {sent}, received {len(got)})")
        if w:
            try:
                sent += sock.send(out[sent:sent + 65536])
            except BlockingIOError:
                pass
        if r:
            try:
                data = sock.recv(65536)
            except BlockingIOError:
                continue
            if not data:
                eof = True
                continue
            got += data
            if len(got) > nbytes:
                sys.exit(f"vsock_peer: {what}: more than {nbytes} bytes")
    if sent != nbytes or got != want:
        bad = next((i for i in range(min(len(got), nbytes))
                    if got[i] != want[i]), len(got))
        sys.exit(f"vsock_peer: {what}: sent {sent}, received {len(got)} of "
                 f"{nbytes}, first bad byte at {bad}")
    sock.close()
    log(f"{what} ok sent={sent} received={len(got)}")


def connect_hybrid(path, port, deadline):
    while True:
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            s.connect(path)
            s.sendall(f"CONNECT {port}\n".encode())
            line = b""
            while not line.endswith(b"\n"):
                c = s.recv(1)
                if not c:
                    break
                line += c
            if line.startswith(b"OK "):
                log(f"CONNECT {port}: {line.decode().strip()}")
                return s
        except (FileNotFoundError, ConnectionRefusedError,
                ConnectionResetError):
            pass
        s.close()
        if time.time() > deadline:
            sys.exit(f"vsock_peer: CONNECT {port} never answered OK")
        time.sleep(0.2)


def connect_vhost(cid, port, deadline):
    while True:
        s = socket.socket(socket.AF_VSOCK, socket.SOCK_STREAM)
        try:
            s.connect((cid, port))
            log(f"connected to {cid}:{port}")
            return s
        except (ConnectionRefusedError, ConnectionResetError, TimeoutError):
            s.close()
        if time.time() > deadline:
            sys.exit(f"vsock_peer: connect {cid}:{port} never succeeded")
        time.sleep(0.2)


def main():
    mode, where, gport, hport, nbytes = sys.argv[1:6]
    gport, hport, nbytes = int(gport), int(hport), int(nbytes)
    # Generous: the guest boots under a nested, emulated CPU.
    deadline = time.time() + float(os.environ.get("VSOCK_PEER_WAIT", 600))
    if mode == "hybrid":
        lpath = f"{where}_{hport}"
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        listener.bind(lpath)
        listener.listen(1)
        s = connect_hybrid(where, gport, deadline)
    elif mode == "vhost":
        listener = socket.socket(socket.AF_VSOCK, socket.SOCK_STREAM)
        listener.bind((socket.VMADDR_CID_ANY, hport))
        listener.listen(1)
        s = connect_vhost(int(where), gport, deadline)
    else:
        sys.exit(f"vsock_peer: unknown mode {mode}")
    exchange(s, nbytes, "host-connect")
    listener.settimeout(max(1.0, deadline - time.time()))
    c, _ = listener.accept()
    log("guest connected")
    exchange(c, nbytes, "guest-connect")
    listener.close()
    if mode == "hybrid":
        os.unlink(lpath)


if __name__ == "__main__":
    main()
