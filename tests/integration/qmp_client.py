"""A line-oriented QMP client for the control-socket tests (stdlib only).

    from qmp_client import Client
    c = Client(path)                 # connects, reads the greeting, negotiates
    c.cmd({"execute": "query-status"})   # -> the reply (events are skipped)

Client(path, negotiate=False) stops after the greeting (c.greeting);
`timeout` bounds every socket read (a hang guard, not a measurement).
"""
import json
import socket


class Client:
    def __init__(self, path, negotiate=True, timeout=10):
        self.s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.s.settimeout(timeout)
        self.s.connect(path)
        self.buf = b""
        self.greeting = self.recv()
        assert "QMP" in self.greeting, self.greeting
        if negotiate:
            r = self.cmd({"execute": "qmp_capabilities"})
            assert "return" in r, r

    def send(self, data):
        self.s.sendall(data if isinstance(data, bytes) else data.encode())

    def recv(self):
        while b"\n" not in self.buf:
            d = self.s.recv(65536)
            if not d:
                raise EOFError("connection closed")
            self.buf += d
        line, self.buf = self.buf.split(b"\n", 1)
        return json.loads(line)

    def reply(self):
        while True:
            m = self.recv()
            if "return" in m or "error" in m:
                return m

    def cmd(self, obj):
        self.send(json.dumps(obj) + "\n")
        return self.reply()

    def close(self):
        self.s.close()
