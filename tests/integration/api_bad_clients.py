#!/usr/bin/env python3
"""Hostile and careless clients against a running modvmm's control socket.

Usage: api_bad_clients.py SOCKET. Each case must get an error reply or be
dropped, while the VM keeps running and a well-behaved client opened at the
start keeps being served. Exit 0 if all held, 1 with one line per failure.
"""
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import qmp_client  # noqa: E402

PATH = sys.argv[1]
failures = []


def fail(msg):
    failures.append(msg)
    print("FAIL: " + msg, file=sys.stderr)


def Client(negotiate=True):
    return qmp_client.Client(PATH, negotiate)


def expect_error(case, raw, desc_part, cls="GenericError"):
    c = Client()
    c.send(raw)
    try:
        r = c.reply()
    except (EOFError, OSError) as e:
        fail(f"{case}: no reply ({e})")
        return
    err = r.get("error")
    if not err or err.get("class") != cls or desc_part not in err.get("desc", ""):
        fail(f"{case}: expected {cls} containing {desc_part!r}, got {r}")
    # The connection is still usable after an error reply.
    r = c.cmd({"execute": "query-status"})
    if "return" not in r:
        fail(f"{case}: connection unusable after the error: {r}")
    c.close()


def vm_running(who):
    r = who.cmd({"execute": "query-status"})
    return r.get("return", {}).get("status") == "running"


keeper = Client()

# Malformed JSON, non-objects, bad shapes, unknown commands, bad arguments.
expect_error("malformed", '{"execute": info}\n', "JSON parse error")
expect_error("truncated", '{"execute":\n', "JSON parse error")
expect_error("garbage", "\x01\x02garbage\n", "JSON parse error")
expect_error("bad-utf8", b'{"execute":"\xff"}\n', "")
expect_error("number", "42\n", "must be a JSON object")
expect_error("array", '[{"execute":"info"}]\n', "must be a JSON object")
expect_error("string", '"info"\n', "must be a JSON object")
expect_error("no-execute", '{"arguments":{}}\n', "lacks member 'execute'")
expect_error("execute-type", '{"execute":["info"]}\n', "must be a string")
expect_error("args-type", '{"execute":"info","arguments":7}\n', "must be an object")
expect_error("unknown", '{"execute":"no-such-command"}\n', "has not been found",
             "CommandNotFound")
expect_error("unexpected-arg", '{"execute":"info","arguments":{"x":1}}\n',
             "Parameter 'x' is unexpected")
expect_error("deep-nesting", "[" * 5000 + "]" * 5000 + "\n", "")

# Before negotiation, only qmp_capabilities.
c = Client(negotiate=False)
c.send('{"execute":"info"}\n')
r = c.reply()
if r.get("error", {}).get("class") != "CommandNotFound":
    fail(f"pre-negotiation: {r}")
c.close()

# Over the 64 KiB limit: an error reply, then the connection is closed.
c = Client()
c.send('{"execute":"info","arguments":{"pad":"' + "x" * 70000 + '"}}\n')
try:
    r = c.reply()
    if "64" not in json.dumps(r) and "65536" not in json.dumps(r):
        fail(f"oversize: unexpected reply {r}")
    try:
        c.recv()
        fail("oversize: connection not closed")
    except (EOFError, ConnectionResetError):
        pass
except (EOFError, ConnectionResetError):
    pass  # dropped without a reply is allowed too
c.close()

# Half a request, then hang: others are still served meanwhile.
hung = Client()
hung.send('{"execute":"qu')
if not vm_running(keeper):
    fail("half request: VM not running or keeper not served")
# Half a request, then disconnect.
c = Client()
c.send('{"execute":"query-st')
c.close()
hung.close()

# 100 clients at once, each served.
many = [Client() for _ in range(100)]
for i, m in enumerate(many):
    r = m.cmd({"execute": "query-status", "id": i})
    if r.get("id") != i or "return" not in r:
        fail(f"100 clients: client {i} got {r}")
        break
if not vm_running(keeper):
    fail("100 clients: keeper not served")
for m in many:
    m.close()

# A client that never reads its replies is dropped, the VMM not blocked.
# Bounded by progress: the server keeps taking requests until the client's
# unread replies pass 1 MiB; fail only if it stops taking them for 60 s
# without dropping the client (a loaded machine is slow, not wrong).
lazy = Client()
lazy.s.setblocking(False)
req = (json.dumps({"execute": "info"}) + "\n").encode() * 64
sent = 0
last_progress = time.time()
dropped = False
while time.time() - last_progress < 60:
    try:
        n = lazy.s.send(req)
        if n:
            sent += n
            last_progress = time.time()
    except BlockingIOError:
        if not vm_running(keeper):
            fail("never-reading client blocked the others")
            break
        time.sleep(0.01)
    except (BrokenPipeError, ConnectionResetError):
        dropped = True
        break
if not dropped:
    fail(f"never-reading client not dropped after {sent} bytes (none taken for 60 s)")
lazy.close()

if not vm_running(keeper):
    fail("at the end: VM not running or keeper not served")
keeper.close()
sys.exit(1 if failures else 0)
