#!/usr/bin/env python3
"""One-shot QMP client for tests/linux/balloon_test.sh's QEMU back end.

    qmp_call.py SOCKET '{"execute": "query-balloon"}' [...]

Connects, negotiates (qmp_capabilities), sends each request in turn and
prints the reply of each as one JSON line ({"return": ...} or {"error":
...}); events are skipped. Exit 0 if every reply was a return, 1 if one was
an error, 2 if the socket did not answer. Python standard library only.
"""
import json
import socket
import sys


def main():
    if len(sys.argv) < 3:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    try:
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(10)
        s.connect(sys.argv[1])
        f = s.makefile("rwb")
    except OSError as e:
        print(f"qmp_call: {sys.argv[1]}: {e}", file=sys.stderr)
        return 2

    def reply():
        while True:
            line = f.readline()
            if not line:
                raise OSError("connection closed")
            msg = json.loads(line)
            if "return" in msg or "error" in msg:
                return msg

    try:
        json.loads(f.readline())  # greeting
        for i, req in enumerate(['{"execute": "qmp_capabilities"}'] + sys.argv[2:]):
            f.write(req.encode() + b"\n")
            f.flush()
            msg = reply()
            if i:
                print(json.dumps(msg), flush=True)
            if "error" in msg:
                return 1
    except (OSError, ValueError) as e:
        print(f"qmp_call: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
