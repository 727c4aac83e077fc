#!/usr/bin/env python3
"""The host end of tests/linux/net_test.sh: two TCP servers in the test's
network namespace. Port 5001 takes one connection and reads it to the end
(the guest's upload), port 5002 sends FILE to one connection and closes it
(the guest's download). Prints one line each, as the test reads them:

    recv BYTES SHA256
    sent BYTES

Usage: net_peer.py FILE
"""
import hashlib
import socket
import sys
import threading


def listener(port):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("0.0.0.0", port))
    s.listen(1)
    return s


def blocks(read):
    """Blocks of up to 64 KiB from read(size) until it returns b"" (the
    peer closed the connection, or the file's end)."""
    return iter(lambda: read(1 << 16), b"")


def upload(s):
    c, _ = s.accept()
    h, n = hashlib.sha256(), 0
    for b in blocks(c.recv):
        h.update(b)
        n += len(b)
    c.close()
    print(f"recv {n} {h.hexdigest()}", flush=True)


def download(s, path):
    c, _ = s.accept()
    n = 0
    with open(path, "rb") as f:
        for b in blocks(f.read):
            c.sendall(b)
            n += len(b)
    c.close()
    print(f"sent {n}", flush=True)


def main():
    up, down = listener(5001), listener(5002)
    print("listening", flush=True)
    t = threading.Thread(target=download, args=(down, sys.argv[1]))
    t.start()
    upload(up)
    t.join()


if __name__ == "__main__":
    main()
