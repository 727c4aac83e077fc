"""A small QMP client (Python 3 standard library only) for the benchmarks.

Works with QEMU's QMP socket (-qmp unix:PATH,server,nowait) and with
modvmm's control socket (--api-socket PATH), which speaks the same protocol:
greeting, qmp_capabilities, execute, asynchronous events.

    from qmp import QMP
    q = QMP("/tmp/vm.sock", timeout=10)        # connects, negotiates
    q.execute("balloon", {"value": 1 << 30})   # -> the "return" value
    ev = q.wait_event("BALLOON_CHANGE", lambda e: e["data"]["actual"] == N)
    q.close()

Events that arrive while waiting for a reply are queued (with the
time.monotonic() at which they were read, as ev["_t"]) and handed out by
wait_event()/events() in order.
"""
import json
import os
import socket
import time


class QMPError(Exception):
    """An error reply ({"error": {"class", "desc"}}) or a protocol failure."""


class QMP:
    def __init__(self, path, timeout=10.0, connect_timeout=10.0):
        self.path = path
        self.timeout = timeout
        self._buf = b""
        self._events = []
        self._id = 0
        deadline = time.monotonic() + connect_timeout
        while True:
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                s.connect(path)
                break
            except (FileNotFoundError, ConnectionRefusedError):
                s.close()
                if time.monotonic() > deadline:
                    raise QMPError(f"cannot connect to {path}")
                time.sleep(0.01)
        self.sock = s
        self.greeting = self._read_msg(time.monotonic() + timeout)
        if "QMP" not in self.greeting:
            raise QMPError(f"no QMP greeting: {self.greeting!r}")
        self.execute("qmp_capabilities")

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # ---- framing: one JSON object per line ("\r\n" from QEMU and modvmm)
    def _read_msg(self, deadline):
        while True:
            nl = self._buf.find(b"\n")
            if nl >= 0:
                line, self._buf = self._buf[:nl], self._buf[nl + 1:]
                line = line.strip()
                if not line:
                    continue
                msg = json.loads(line)
                if "event" in msg:
                    msg["_t"] = time.monotonic()
                return msg
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"QMP {self.path}: no message in time")
            self.sock.settimeout(left)
            try:
                data = self.sock.recv(65536)
            except socket.timeout:
                raise TimeoutError(f"QMP {self.path}: no message in time")
            if not data:
                raise QMPError(f"QMP {self.path}: connection closed")
            self._buf += data

    def send(self, cmd, args=None):
        """Sends a command without waiting; returns its id."""
        self._id += 1
        msg = {"execute": cmd, "id": self._id}
        if args is not None:
            msg["arguments"] = args
        self.sock.sendall(json.dumps(msg).encode() + b"\n")
        return self._id

    def reply(self, ident, timeout=None):
        """Waits for the reply to command `ident`, queueing events."""
        deadline = time.monotonic() + (timeout or self.timeout)
        while True:
            msg = self._read_msg(deadline)
            if "event" in msg:
                self._events.append(msg)
                continue
            if msg.get("id") != ident:
                continue
            if "error" in msg:
                e = msg["error"]
                raise QMPError(f"{e.get('class')}: {e.get('desc')}")
            return msg.get("return")

    def execute(self, cmd, args=None, timeout=None):
        return self.reply(self.send(cmd, args), timeout)

    def events(self):
        """Returns and forgets the queued events (reads what is pending)."""
        try:
            while True:
                self._events.append(self._read_msg(time.monotonic() + 0.002))
        except (TimeoutError, QMPError):
            pass
        ev, self._events = self._events, []
        return ev

    def wait_event(self, name, pred=None, timeout=None):
        """The first (queued or new) event `name` for which pred(ev) holds."""
        deadline = time.monotonic() + (timeout or self.timeout)
        while True:
            for i, ev in enumerate(self._events):
                if ev.get("event") == name and (pred is None or pred(ev)):
                    del self._events[: i + 1]
                    return ev
            self._events.clear()
            msg = self._read_msg(deadline)
            if "event" in msg:
                self._events.append(msg)


if __name__ == "__main__":
    # bench/qmp.py SOCKET COMMAND [JSON-ARGUMENTS]: one command, for poking.
    import sys

    if len(sys.argv) < 3:
        sys.exit("usage: qmp.py SOCKET COMMAND [JSON-ARGUMENTS]")
    with QMP(sys.argv[1]) as q:
        a = json.loads(sys.argv[3]) if len(sys.argv) > 3 else None
        print(json.dumps(q.execute(sys.argv[2], a), indent=1))
    os._exit(0)
