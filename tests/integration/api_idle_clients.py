#!/usr/bin/env python3
"""Idle and excess clients of a running modvmm's control socket.

Usage: api_idle_clients.py SOCKET MODVMM-CTL. Checks, in order:
  - with API_MAX_CLIENTS (128) negotiated clients connected, one more is
    refused with the server's reason, and modvmm-ctl shows that reason;
  - clients that never finish qmp_capabilities, and one that stops in the
    middle of a request, are told why and closed (API_IDLE_TIMEOUT_MS);
  - a negotiated client that sits idle longer than that is kept: it is
    served after the others were dropped;
  - the freed slots take new clients.
Waits are bounded by what the server does (each drop is awaited with a
generous hang guard), not by the timeout's length. Exit 0 if all held,
1 with one line per failure.
"""
import json
import os
import socket
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import qmp_client  # noqa: E402

PATH, CTL = sys.argv[1], sys.argv[2]
MAX_CLIENTS = 128
HANG_GUARD_S = 300
failures = []


def fail(msg):
    failures.append(msg)
    print("FAIL: " + msg, file=sys.stderr)


class Client(qmp_client.Client):
    def __init__(self, negotiate=True):
        super().__init__(PATH, negotiate, timeout=HANG_GUARD_S)

    def closed_with(self, desc_part):
        """Waits for the server's parting error, then EOF."""
        try:
            r = self.reply()
        except (EOFError, ConnectionResetError):
            return "closed without a reason"
        except socket.timeout:
            return f"still open after {HANG_GUARD_S} s"
        desc = r.get("error", {}).get("desc", "")
        if desc_part not in desc:
            return f"unexpected reply {r}"
        try:
            extra = self.recv()
            return f"not closed after the reason (then got {extra})"
        except (EOFError, ConnectionResetError):
            return None
        except socket.timeout:
            return f"not closed {HANG_GUARD_S} s after the reason"


def served(c):
    r = c.cmd({"execute": "query-status"})
    return r.get("return", {}).get("status") == "running"


keeper = Client()

# The cap, with clients that are never dropped for idling (negotiated,
# nothing half-sent), so how long it takes to open them does not matter:
# with API_MAX_CLIENTS connected one more is turned away with the server's
# reason, not a greeting, and modvmm-ctl shows that reason.
full = [Client() for _ in range(MAX_CLIENTS - 1)]
extra = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
extra.settimeout(HANG_GUARD_S)
extra.connect(PATH)
data = b""
while b"\n" not in data:
    d = extra.recv(4096)
    if not d:
        break
    data += d
extra.close()
try:
    m = json.loads(data.split(b"\n")[0])
except ValueError:
    m = {}
if "too many clients" not in m.get("error", {}).get("desc", ""):
    fail(f"client {MAX_CLIENTS + 1}: expected 'too many clients', got {data!r}")
p = subprocess.run([CTL, "--api-socket", PATH, "info"], capture_output=True,
                   text=True, timeout=HANG_GUARD_S)
if p.returncode != 2 or "refused the connection: too many clients connected" not in p.stderr:
    fail(f"modvmm-ctl at the cap: status {p.returncode}, said {p.stderr.strip()!r}")
for c in full:
    c.close()

# Idle half-open clients: some that never negotiate, one negotiated client
# that stops half-way through a request. Each is told why and closed.
silent = [Client(negotiate=False) for _ in range(16)]
half = Client()
half.send('{"execute": "query-st')
for i, c in enumerate(silent):
    why = c.closed_with("no qmp_capabilities within the idle timeout")
    if why:
        fail(f"never-negotiating client {i}: {why}")
        break
why = half.closed_with("a request left unfinished past the idle timeout")
if why:
    fail(f"half-request client: {why}")

# The negotiated keeper, idle longer than any of them: still served.
try:
    if not served(keeper):
        fail("idle negotiated client: VM not running")
except (EOFError, OSError) as e:
    fail(f"idle negotiated client was dropped ({e})")

# The slots are free again.
p = subprocess.run([CTL, "--api-socket", PATH, "info"], capture_output=True,
                   text=True, timeout=HANG_GUARD_S)
if p.returncode != 0:
    fail(f"modvmm-ctl after the drops: status {p.returncode}, {p.stderr.strip()!r}")
sys.exit(1 if failures else 0)
