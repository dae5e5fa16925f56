#!/usr/bin/env python3
"""Reproduces the cases of issue 13 against a refmatch binary and prints one line per case:
the request, the answer, how long it took, and the server's peak memory (VmHWM).

    python3 benches/abuse.py target/release/refmatch [case ...]

Cases: trickle, fds, header, header4, xlsx, json, inject, quote, small. Each heavy case
starts a server of its own on a fresh database, so VmHWM is that case's alone. Needs
Python 3 only; the XLSX bomb (2.5 MB that inflates to 1,000 MiB) is built once under /tmp.
"""

import json
import os
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import zipfile

BIN = os.path.abspath(sys.argv[1])


def cli(db, *args):
    return subprocess.run([BIN, "--db", db, *args], capture_output=True, text=True)


class Server:
    def __init__(self, extra=(), ulimit=None):
        self.dir = tempfile.mkdtemp(prefix="refmatch-abuse-")
        self.db = os.path.join(self.dir, "db")
        out = cli(self.db, "keys", "create", "--name", "t")
        self.key = out.stdout.strip().splitlines()[-1]
        cmd = [BIN, "--db", self.db, "serve", "--addr", "127.0.0.1:0", "--threads", "1", *extra]
        if ulimit:
            cmd = ["sh", "-c", f"ulimit -n {ulimit} && exec \"$@\"", "sh", *cmd]
        self.log = open(os.path.join(self.dir, "server.log"), "wb")
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=self.log)
        line = self.proc.stdout.readline().decode()
        host, port = line.strip().split("http://")[1].rsplit(":", 1)
        self.addr = (host, int(port))

    def peak_mb(self):
        try:
            with open(f"/proc/{self.proc.pid}/status") as f:
                for line in f:
                    if line.startswith("VmHWM:"):
                        return int(line.split()[1]) // 1024
        except OSError:
            return None

    def alive(self):
        return self.proc.poll() is None

    def stop(self):
        self.proc.kill()
        self.proc.wait()


def http(addr, method, path, key=None, body=b"", ctype=None, timeout=120, extra=""):
    """One request with Connection: close; (status, body, seconds). Status 0: no answer."""
    started = time.time()
    try:
        s = socket.create_connection(addr, timeout=timeout)
        head = f"{method} {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: {len(body)}\r\n"
        if key:
            head += f"Authorization: Bearer {key}\r\n"
        if ctype:
            head += f"Content-Type: {ctype}\r\n"
        head += extra + "\r\n"
        s.sendall(head.encode("latin-1"))
        try:
            s.sendall(body)
        except OSError:
            pass
        data = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
        s.close()
    except OSError as e:
        return 0, str(e).encode(), time.time() - started
    status = int(data.split(b" ", 2)[1]) if data.startswith(b"HTTP/") else 0
    head, _, body = data.partition(b"\r\n\r\n")
    if b"transfer-encoding: chunked" in head.lower():
        out = b""
        while body:
            size, _, rest = body.partition(b"\r\n")
            n = int(size.split(b";")[0] or b"0", 16)
            if n == 0:
                break
            out += rest[:n]
            body = rest[n + 2:]
        body = out
    return status, body, time.time() - started


def raw(addr, payload, timeout=30):
    started = time.time()
    try:
        s = socket.create_connection(addr, timeout=timeout)
        try:
            s.sendall(payload)
        except OSError:
            pass
        data = s.recv(200)
        s.close()
    except OSError as e:
        return f"no answer ({e.__class__.__name__})", time.time() - started
    return (data.split(b"\r\n")[0].decode() or "closed"), time.time() - started


def report(case, request, answer, seconds, peak):
    print(f"{case:8} | {request} | {answer} | {seconds:.2f} s | {peak} MB", flush=True)


def trickle(n=8, seconds=12):
    srv = Server()
    stop = threading.Event()

    def one():
        try:
            s = socket.create_connection(srv.addr)
            s.sendall(b"POST /v1/documents HTTP/1.1\r\nHost: x\r\nContent-Type: text/csv\r\nContent-Length: 1000000\r\n\r\n")
            while not stop.is_set():
                s.sendall(b"a")
                time.sleep(2)
        except OSError:
            pass

    threads = [threading.Thread(target=one, daemon=True) for _ in range(n)]
    for t in threads:
        t.start()
    time.sleep(1)
    worst, failed, asked = 0.0, 0, 0
    end = time.time() + seconds
    while time.time() < end:
        status, _, took = http(srv.addr, "GET", "/healthz", timeout=5)
        asked += 1
        worst = max(worst, took)
        failed += status != 200
        time.sleep(0.5)
    stop.set()
    report("trickle", f"{n} keyless POSTs, CL 1 MB, 1 byte/2 s; GET /healthz every 0.5 s for {seconds} s",
           f"{asked - failed}/{asked} healthz 200", worst, srv.peak_mb())
    srv.stop()


def fds():
    srv = Server(ulimit=256)
    held = []
    for _ in range(400):
        try:
            held.append(socket.create_connection(srv.addr, timeout=2))
        except OSError:
            break
    time.sleep(1)
    for s in held:
        s.close()
    time.sleep(0.5)
    status, _, took = http(srv.addr, "GET", "/healthz", timeout=5)
    report("fds", f"ulimit -n 256: {len(held)} connections opened, closed; GET /healthz",
           f"{status or 'no answer'}; process alive: {srv.alive()}", took, srv.peak_mb())
    srv.stop()


def header(copies=1, size=300 << 20):
    srv = Server()
    line = b"GET /healthz HTTP/1.1\r\nX-Big: " + b"a" * size + b"\r\n\r\n"
    results = []

    def one():
        results.append(raw(srv.addr, line, timeout=120))

    started = time.time()
    threads = [threading.Thread(target=one) for _ in range(copies)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    answers = sorted({r[0] for r in results})
    report("header" if copies == 1 else "header4", f"{copies} x 300 MB header line, no key",
           ", ".join(answers), time.time() - started, srv.peak_mb())
    srv.stop()


def xlsx_bomb():
    path = "/tmp/refmatch-bomb-1000mib-v2.xlsx"
    if not os.path.exists(path):
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
            z.writestr("[Content_Types].xml", '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/><Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>')
            z.writestr("_rels/.rels", '<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>')
            z.writestr("xl/workbook.xml", '<?xml version="1.0"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="S" sheetId="1" r:id="rId1"/></sheets></workbook>')
            z.writestr("xl/_rels/workbook.xml.rels", '<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/><Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/></Relationships>')
            z.writestr("xl/worksheets/sheet1.xml", '<?xml version="1.0"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData><row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" t="s"><v>1</v></c></row><row r="2"><c r="A2" t="s"><v>2</v></c><c r="B2" t="s"><v>3</v></c></row></sheetData></worksheet>')
            item = b"<si><t>" + b"a" * 100 + b"</t></si>"
            count = (1000 << 20) // len(item)
            with z.open("xl/sharedStrings.xml", "w", force_zip64=True) as f:
                f.write(b'<?xml version="1.0"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">')
                f.write(b"<si><t>id</t></si><si><t>name</t></si><si><t>R1</t></si><si><t>Acme</t></si>")
                block = item * 1024
                for _ in range(count // 1024):
                    f.write(block)
                f.write(b"</sst>")
    return path


def xlsx():
    path = xlsx_bomb()
    srv = Server()
    body = open(path, "rb").read()
    status, text, took = http(srv.addr, "POST", "/v1/reference-data?name=bomb", srv.key, body,
                              "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    report("xlsx", f"POST {len(body) / 1e6:.1f} MB XLSX, shared strings inflate to 1,000 MiB",
           status, took, srv.peak_mb())
    srv.stop()


def json_body():
    srv = Server()
    fields = {f"f{i:02}": i % 10 for i in range(70)}
    docs = [{"id": f"d{i}", "fields": fields} for i in range(100_000)]
    body = json.dumps({"documents": docs}, separators=(",", ":")).encode()
    status, _, took = http(srv.addr, "POST", "/v1/documents", srv.key, body, "application/json")
    report("json", f"POST {len(body) / 1e6:.0f} MB JSON, 100,000 documents x 70 fields",
           status, took, srv.peak_mb())
    srv.stop()


def inject():
    srv = Server()
    csv = b'id,vendor_name,total\n"=HYPERLINK(""http://x"")","=cmd|\' /C calc\'!A0",-12.50\n@SUM(A1),+1+1,3\n'
    status, text, _ = http(srv.addr, "POST", "/v1/reference-data?name=x", srv.key, csv, "text/csv")
    rid = json.loads(text)["id"]
    status, text, took = http(srv.addr, "GET", f"/v1/reference-data/{rid}/export", srv.key)
    row = text.split(b"\n")[1] if b"\n" in text else text
    report("inject", "reference export of =HYPERLINK(..), =cmd|.., -12.50",
           f"{status} row: {row.decode()[:60]}", took, srv.peak_mb())
    srv.stop()


def quote():
    srv = Server()
    csv = b'id,name\nR1,"Acme Inc\nR2,Beta\nR3,Gamma\n'
    path = os.path.join(srv.dir, "stray.csv")
    open(path, "wb").write(csv)
    started = time.time()
    out = cli(srv.db, "reference", "import", path)
    report("quote", "refmatch reference import (R1,\"Acme Inc on line 2)",
           f"exit {out.returncode}: {(out.stderr or out.stdout).strip()[:90]}", time.time() - started, "-")
    status, text, took = http(srv.addr, "POST", "/v1/documents", srv.key, csv, "text/csv")
    report("quote", "POST text/csv documents, same body", f"{status} {text.decode()[:0]}", took, srv.peak_mb())
    srv.stop()


def small():
    srv = Server()
    other = cli(srv.db, "--workspace", "other", "keys", "create", "--name", "o").stdout.strip().splitlines()[-1]
    http(srv.addr, "GET", "/v1/matching/runs", srv.key)
    status, text, took = http(srv.addr, "GET", "/metrics", other)
    shows = b'route="runs"' in text
    report("metrics", "GET /metrics with another workspace's key", f"{status}; shows the other's requests: {shows}", took, "-")
    k = srv.key
    for name, payload in [
        ("2xCL", f"POST /v1/documents HTTP/1.1\r\nAuthorization: Bearer {k}\r\nContent-Type: text/csv\r\nContent-Length: 9\r\nContent-Length: 12\r\n\r\nid,a\n1,2\n"),
        ("CL+TE", f"POST /v1/documents HTTP/1.1\r\nAuthorization: Bearer {k}\r\nContent-Type: text/csv\r\nContent-Length: 9\r\nTransfer-Encoding: chunked\r\n\r\n9\r\nid,a\n1,2\n\r\n0\r\n\r\n"),
        ("2xAuth", f"GET /v1/matching/runs HTTP/1.1\r\nAuthorization: Bearer {k}\r\nAuthorization: Bearer x\r\n\r\n"),
        ("ctl-log", "GET /v1/\x1b[2J\x1b[31mowned HTTP/1.1\r\n\r\n"),
    ]:
        answer, took = raw(srv.addr, payload.encode("latin-1"))
        report(name, name, answer, took, "-")
    time.sleep(0.2)
    log = open(os.path.join(srv.dir, "server.log"), "rb").read()
    report("ctl-log", "raw ESC bytes in the access log", f"{log.count(bytes([27]))} ESC bytes", 0, "-")
    # Strategy PATCH with an unknown reference_data_id.
    fixtures = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fixtures", "invoices")
    csv = open(os.path.join(fixtures, "reference.csv"), "rb").read()
    _, text, _ = http(srv.addr, "POST", "/v1/reference-data?name=r", k, csv, "text/csv")
    rid = json.loads(text)["id"]
    docs = open(os.path.join(fixtures, "documents.csv"), "rb").read()
    http(srv.addr, "POST", "/v1/documents", k, docs, "text/csv")
    status, text, _ = http(srv.addr, "POST", "/v1/matching/strategies/generate", k,
                           json.dumps({"reference_data_id": rid}).encode(), "application/json")
    sid = json.loads(text).get("id")
    status, text, took = http(srv.addr, "PATCH", f"/v1/matching/strategies/{sid}", k,
                              b'{"reference_data_id": "nope"}', "application/merge-patch+json")
    report("patch", "PATCH strategy {reference_data_id: nope}", status, took, "-")
    status, text, _ = http(srv.addr, "GET", f"/v1/matching/strategies/{sid}", k)
    stored = json.loads(text).get("strategy", {}).get("reference_data_id")
    report("patch", "GET the strategy after", f"{status}; stored reference_data_id: {stored}", 0, "-")
    srv.stop()
    d = tempfile.mkdtemp()
    for name, sql in [("foreign", "PRAGMA application_id = 1234; CREATE TABLE notes(x);"),
                      ("uv-1", "PRAGMA user_version = -1;")]:
        path = os.path.join(d, name + ".db")
        if name == "uv-1":
            cli(path, "keys", "create", "--name", "t")  # a refmatch database, then damaged
        c = sqlite3.connect(path)
        c.executescript(sql)
        c.close()
        out = cli(path, "keys", "list")
        tables = sqlite3.connect(path).execute("select count(*) from sqlite_master where type='table'").fetchone()[0]
        err = out.stderr.strip()
        report(name, f"--db {name}.db keys list", f"exit {out.returncode}, {len(err.splitlines())} lines, {len(err)} chars, {tables} tables after: {err[:70]}", 0, "-")


def json_many(copies, fields, documents):
    srv = Server()
    doc_fields = {f"f{i:02}": i % 10 for i in range(fields)}
    docs = [{"id": f"d{i}", "fields": doc_fields} for i in range(documents)]
    body = json.dumps({"documents": docs}, separators=(",", ":")).encode()
    results = []

    def one():
        results.append(http(srv.addr, "POST", "/v1/documents", srv.key, body, "application/json"))

    started = time.time()
    threads = [threading.Thread(target=one) for _ in range(copies)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    statuses = ", ".join(str(r[0]) for r in results)
    report("json", f"{copies} x POST {len(body) / 1e6:.0f} MB JSON, {documents:,} documents x {fields} fields at once",
           statuses, time.time() - started, srv.peak_mb())
    srv.stop()


CASES = {
    "json2": lambda: json_many(2, 70, 100_000),
    "json4ok": lambda: json_many(4, 8, 50_000),
    "json1ok": lambda: json_many(1, 8, 50_000),
    "trickle": lambda: trickle(8),
    "trickle32": lambda: trickle(32),
    "fds": fds,
    "header": lambda: header(1),
    "header4": lambda: header(4),
    "xlsx": xlsx,
    "json": json_body,
    "inject": inject,
    "quote": quote,
    "small": small,
}

if __name__ == "__main__":
    for name in sys.argv[2:] or list(CASES):
        CASES[name]()
