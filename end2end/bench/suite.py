#!/usr/bin/env python3
"""Rubrica's benchmark suite, run by ../../bench.sh: for SQLite and PostgreSQL at each size of
seeded contacts, the release server under wrk (contact-page data, the list, search; 1, 16 and 64
connections), its memory idle and under that load; then what the scheduled-send benchmark
measured, and the pages' transfer size and Lighthouse scores (pages.bench.ts). Prints tables and
writes everything to results/suite.json.

Everything runs on this machine: the server, the database, wrk and Chromium share its cores, so
the numbers are what one machine does with all of it at once."""

import argparse
import json
import os
import random
import re
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BIN = ROOT / "target/release/rubrica"
SITE = ROOT / "target/site"
RESULTS = ROOT / "end2end/bench/results"
DATA = ROOT / "data"
PG_ADMIN = os.environ.get("TEST_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/postgres")
DEMO = ("demo@rubrica.local", "rubrica-demo")

# The targets (issue 6), checked in the tables.
CONTACT_P99_MS = 5.0
CONTACT_RPS = 10_000
LIST_P95_MS = 30.0
RSS_IDLE_MB = 64
RSS_LOAD_MB = 256
PAGE_KIB = 250
LIGHTHOUSE_PERF = 98
LIGHTHOUSE_A11Y = 100


def say(*args):
    print("==>", *args, file=sys.stderr, flush=True)


def psql(url, sql):
    out = subprocess.run(["psql", "-qtAX", url, "-c", sql], check=True, capture_output=True, text=True)
    return out.stdout.strip()


class Database:
    """A database seeded once with `n` demo contacts, kept between runs (seeding a million takes
    minutes): data/bench-N.db, or the PostgreSQL database rubrica_bench_N."""

    def __init__(self, engine, n):
        self.engine, self.n = engine, n
        if engine == "sqlite":
            self.path = DATA / f"bench-{n}.db"
            self.url = f"sqlite://{self.path}"
            self.marker = DATA / f"bench-{n}.db.done"
        else:
            self.name = f"rubrica_bench_{n}"
            self.url = PG_ADMIN.rsplit("/", 1)[0] + "/" + self.name
            self.marker = DATA / f"bench-pg-{n}.done"

    def exists(self):
        if not self.marker.exists():
            return False
        if self.engine == "sqlite":
            return self.path.exists()
        return psql(PG_ADMIN, f"SELECT 1 FROM pg_database WHERE datname = '{self.name}'") == "1"

    def seed(self):
        """Seeds it unless already done; returns the seconds seeding took (None: already seeded)."""
        if self.exists():
            return None
        DATA.mkdir(exist_ok=True)
        if self.engine == "sqlite":
            for suffix in ("", "-wal", "-shm"):
                Path(f"{self.path}{suffix}").unlink(missing_ok=True)
        else:
            psql(PG_ADMIN, f"DROP DATABASE IF EXISTS {self.name} WITH (FORCE)")
            psql(PG_ADMIN, f"CREATE DATABASE {self.name}")
        say(f"seeding {self.n:,} contacts into {self.engine} (once)")
        started = time.monotonic()
        subprocess.run(
            [BIN, "seed", "--contacts", str(self.n), "--demo-admin"],
            env={**os.environ, "DATABASE_URL": self.url, "RUST_LOG": "warn"},
            check=True,
            stdout=subprocess.DEVNULL,
        )
        if self.engine == "postgres":
            psql(self.url, "VACUUM ANALYZE")
        self.marker.write_text(self.url)
        return time.monotonic() - started

    def sample(self, sql):
        """Rows of one text column, for the requests' bodies."""
        if self.engine == "sqlite":
            with sqlite3.connect(self.path) as db:
                return [r[0] for r in db.execute(sql)]
        return psql(self.url, sql).splitlines()

    def contact_places(self, k):
        """`k` contacts from all over the list, each with the place in the list (`?pos=&of=`)
        the contact page sends when opened from the list or reached with Previous / Next, so
        the server counts nothing (the list's total is counted up to 10,000, as the list does)."""
        sql = (f"SELECT id, pos FROM (SELECT id, ROW_NUMBER() OVER (ORDER BY sort_name, id) AS pos "
               f"FROM contacts) AS ranked ORDER BY random() LIMIT {k}")
        of = f"{min(self.n, 10_000)}{'%2B' if self.n > 10_000 else ''}"
        if self.engine == "sqlite":
            with sqlite3.connect(self.path) as db:
                rows = [(str(uuid.UUID(bytes=r[0])), r[1]) for r in db.execute(sql)]
        else:
            rows = [tuple(line.split("|")) for line in psql(self.url, sql).splitlines()]
        return [(i, f"?pos={pos}&of={of}") for i, pos in rows]

    def search_terms(self, k):
        """What people type in the search box: a surname, a full name, the start of a name; each
        with its kind."""
        names = self.sample(
            "SELECT first_name || ' ' || last_name FROM contacts WHERE last_name IS NOT NULL "
            f"ORDER BY random() LIMIT {k}"
        )
        terms = []
        for i, name in enumerate(names):
            first, _, last = name.partition(" ")
            terms.append([("surname", last), ("full name", name), ("start of a first name", first[:4])][i % 3])
        return terms


class Server:
    """The release binary serving `db` on a port of its own."""

    def __init__(self, db, port, pool):
        self.base = f"http://127.0.0.1:{port}"
        self.log = open(RESULTS / f"server-{db.engine}-{db.n}.log", "w")
        env = {
            **os.environ,
            "DATABASE_URL": db.url,
            "LEPTOS_SITE_ROOT": str(SITE),
            "RUST_LOG": "warn",
            "DATABASE_MAX_CONNECTIONS": str(pool),
        }
        self.process = subprocess.Popen(
            [BIN, "serve", "--addr", f"127.0.0.1:{port}"], env=env, stdout=self.log, stderr=self.log
        )
        for _ in range(300):
            try:
                urllib.request.urlopen(self.base + "/healthz", timeout=1).read()
                return
            except OSError:
                if self.process.poll() is not None:
                    break
                time.sleep(0.1)
        raise RuntimeError(f"the server did not start; see {self.log.name}")

    def rss_mb(self):
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        return 0.0

    def sign_in(self):
        """Signs in as the demo admin through the sign-in form's server function; the cookie."""
        html = urllib.request.urlopen(self.base + "/login").read().decode()
        action = re.search(r'action="(/api/login[^"]*)"', html).group(1)
        data = urllib.parse.urlencode({"email": DEMO[0], "password": DEMO[1]}).encode()
        request = urllib.request.Request(self.base + action, data=data, headers={"Accept": "application/json"})
        response = urllib.request.urlopen(request)
        cookies = [c.split(";")[0] for c in response.headers.get_all("Set-Cookie") or []]
        if not cookies:
            raise RuntimeError("signing in gave no session cookie")
        return "; ".join(cookies)

    def stop(self):
        self.process.terminate()
        self.process.wait(timeout=30)
        self.log.close()


def server_functions():
    """The URLs of the server functions the benchmark calls, as the built front end calls them."""
    urls = {}
    for wasm in (SITE / "pkg").glob("*.wasm"):
        blob = wasm.read_bytes()
        for name in ("open_contact", "list_contacts"):
            m = re.search(rb"/api/" + name.encode() + rb"\d+", blob)
            if m:
                urls[name] = m.group(0).decode()
    missing = {"open_contact", "list_contacts"} - urls.keys()
    if missing:
        raise RuntimeError(f"no URL for {missing} in the wasm bundles: build first (./build.sh)")
    return urls


def wrk(server, path, bodies_file, cookie, connections, seconds):
    """One wrk run; samples the server's RSS meanwhile. The run's numbers, in ms and req/s."""
    peak = [server.rss_mb()]
    stop = threading.Event()

    def sample():
        while not stop.wait(0.2):
            peak[0] = max(peak[0], server.rss_mb())

    sampler = threading.Thread(target=sample)
    sampler.start()
    threads = 1 if connections == 1 else 2
    try:
        out = subprocess.run(
            ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--timeout", "5s",
             "-s", str(ROOT / "end2end/bench/wrk.lua"), server.base + path],
            env={**os.environ, "BENCH_BODIES": str(bodies_file), "BENCH_COOKIE": cookie},
            check=True, capture_output=True, text=True,
        ).stdout
    finally:
        stop.set()
        sampler.join()
    run = json.loads(out.strip().splitlines()[-1])
    # Refused or failed answers make a run worthless; requests slower than wrk's timeout are
    # counted and shown instead (they are the answer to "how slow").
    failed = {k: v for k, v in run["errors"].items() if k != "timeout" and v}
    if failed:
        raise RuntimeError(f"{path} at {connections} connections: errors {run['errors']}\n{out}")
    lat = run["latency_us"]
    return {
        "connections": connections,
        "requests": run["requests"],
        "rps": run["requests"] / (run["duration_us"] / 1e6),
        "p50_ms": lat["p50"] / 1000,
        "p95_ms": lat["p95"] / 1000,
        "p99_ms": lat["p99"] / 1000,
        "max_ms": lat["max"] / 1000,
        "timeouts": run["errors"]["timeout"],
        "rss_peak_mb": peak[0],
    }


def check_bodies(server, path, cookie, bodies):
    """The requests must work before they are timed: a few, checked for a 200 and real data."""
    for body in bodies[:3]:
        request = urllib.request.Request(
            server.base + path, data=body.encode(), method="POST",
            headers={"Content-Type": "application/json", "Accept": "application/json", "Cookie": cookie},
        )
        answer = json.loads(urllib.request.urlopen(request).read())
        if not answer:
            raise RuntimeError(f"{path} answered nothing for {body}")


def search_body(q):
    return json.dumps({"q": q, "sort": None, "after": None, "before": None, "tags": None, "not_tags": None})


def search_kinds(server, path, cookie, terms):
    """The server's own time (Server-Timing) for each kind of search, one request at a time: what
    a search costs, apart from waiting for others."""
    times = {}
    for kind, q in terms:
        request = urllib.request.Request(
            server.base + path, data=search_body(q).encode(), method="POST",
            headers={"Content-Type": "application/json", "Accept": "application/json", "Cookie": cookie},
        )
        with urllib.request.urlopen(request) as response:
            response.read()
            timing = response.headers.get("Server-Timing", "")
        match = re.search(r"dur=([0-9.]+)", timing)
        if match:
            times.setdefault(kind, []).append(float(match.group(1)))
    result = {}
    for kind, ms in times.items():
        ms.sort()
        at = lambda q: ms[min(len(ms) - 1, int(q * len(ms)))]
        result[kind] = {"requests": len(ms), "p50_ms": at(0.5), "p95_ms": at(0.95), "max_ms": ms[-1]}
    return result


def http_benchmarks(engine, n, args, urls):
    db = Database(engine, n)
    seeded = db.seed()
    places = db.contact_places(5000)
    terms = db.search_terms(600)
    work = RESULTS / "work"
    work.mkdir(exist_ok=True)
    bodies = {
        "contact": [json.dumps({"id": i, "place": place}) for i, place in places],
        "list": [
            json.dumps({"q": None, "sort": sort, "after": None, "before": None, "tags": None, "not_tags": None})
            for sort in ("name", "-name", "-created", "created", "-updated", "updated")
        ],
        "search": [search_body(t) for _, t in terms],
    }
    paths = {"contact": urls["open_contact"], "list": urls["list_contacts"], "search": urls["list_contacts"]}
    server = Server(db, args.port, args.pool)
    try:
        time.sleep(1)
        result = {"engine": engine, "contacts": n, "pool": args.pool, "seed_seconds": seeded,
                  "rss_idle_mb": server.rss_mb(), "endpoints": {}}
        cookie = server.sign_in()
        for name, lines in bodies.items():
            random.shuffle(lines)
            file = work / f"{engine}-{n}-{name}.jsonl"
            file.write_text("\n".join(lines) + "\n")
            check_bodies(server, paths[name], cookie, lines)
            runs = []
            for c in args.connections:
                say(f"{engine}, {n:,} contacts: {name}, {c} connection(s), {args.seconds} s")
                runs.append(wrk(server, paths[name], file, cookie, c, args.seconds))
            result["endpoints"][name] = runs
        result["rss_load_mb"] = max(r["rss_peak_mb"] for runs in result["endpoints"].values() for r in runs)
        say(f"{engine}, {n:,} contacts: each kind of search, one at a time")
        result["search_kinds"] = search_kinds(server, urls["list_contacts"], cookie, terms)
        result["rss_after_mb"] = server.rss_mb()
        return result
    finally:
        server.stop()


def pages_benchmark(args):
    """Transfer size and Lighthouse (mobile) of /login, /contacts and a contact page, in Chromium."""
    db = Database("sqlite", max(args.sizes))
    db.seed()
    server = Server(db, args.port, args.pool)
    try:
        say("pages: transfer size and Lighthouse (mobile), in Chromium")
        subprocess.run(
            ["npx", "playwright", "test", "--config", "bench.config.ts", "--reporter", "line", "pages.bench.ts"],
            cwd=ROOT / "end2end", env={**os.environ, "BASE_URL": server.base}, check=True,
        )
    finally:
        server.stop()
    return json.loads((RESULTS / "pages.json").read_text())


def verdict(ok):
    return "met" if ok else "**missed**"


def http_tables(suite, out):
    """The requests, memory and growth tables."""
    largest = max(r["contacts"] for r in suite["http"])
    out.append(f"### Requests, {largest:,} contacts (wrk on the same 2 cores; ms, requests/s)\n")
    out.append("| database | request | connections | req/s | p50 | p95 | p99 | target |")
    out.append("|---|---|---|---|---|---|---|---|")
    for r in suite["http"]:
        if r["contacts"] != largest:
            continue
        for name, runs in r["endpoints"].items():
            for run in runs:
                target = ""
                if name == "contact" and run["connections"] == 64:
                    ok = run["p99_ms"] <= CONTACT_P99_MS and run["rps"] >= CONTACT_RPS
                    target = f"p99 ≤ {CONTACT_P99_MS:g}, ≥ {CONTACT_RPS:,}/s — {verdict(ok)}"
                elif name in ("list", "search"):
                    target = f"p95 ≤ {LIST_P95_MS:g} — {verdict(run['p95_ms'] <= LIST_P95_MS)}"
                late = f" ({run['timeouts']} over 5 s)" if run.get("timeouts") else ""
                out.append(
                    f"| {r['engine']} | {name} | {run['connections']} | {run['rps']:,.0f}{late} | {run['p50_ms']:.2f} "
                    f"| {run['p95_ms']:.2f} | {run['p99_ms']:.2f} | {target} |"
                )
    out.append("\n### Server memory (RSS, MB)\n")
    out.append("| database | contacts | idle | under load (peak) | target |")
    out.append("|---|---|---|---|---|")
    for r in suite["http"]:
        ok = r["rss_idle_mb"] <= RSS_IDLE_MB and r["rss_load_mb"] <= RSS_LOAD_MB
        out.append(f"| {r['engine']} | {r['contacts']:,} | {r['rss_idle_mb']:.1f} | {r['rss_load_mb']:.1f} "
                   f"| ≤ {RSS_IDLE_MB} / ≤ {RSS_LOAD_MB} — {verdict(ok)} |")
    kinds = [r for r in suite["http"] if r.get("search_kinds")]
    if kinds:
        out.append("\n### Search by what is typed: time in the server (ms), one search at a time\n")
        out.append("| database | contacts | surname p50 / p95 | full name p50 / p95 | start of a first name p50 / p95 |")
        out.append("|---|---|---|---|---|")
        for r in kinds:
            cells = []
            for kind in ("surname", "full name", "start of a first name"):
                k = r["search_kinds"].get(kind)
                cells.append(f"{k['p50_ms']:.2f} / {k['p95_ms']:.2f}" if k else "—")
            out.append(f"| {r['engine']} | {r['contacts']:,} | " + " | ".join(cells) + " |")
    sizes = sorted({r["contacts"] for r in suite["http"]})
    if len(sizes) > 1:
        out.append("\n### Growth: p95 (ms) at 16 connections as the contacts grow\n")
        out.append("| database | request | " + " | ".join(f"{s:,}" for s in sizes) + " |")
        out.append("|---|---|" + "---|" * len(sizes))
        for engine in ("sqlite", "postgres"):
            rows = {r["contacts"]: r for r in suite["http"] if r["engine"] == engine}
            if not rows:
                continue
            for name in ("contact", "list", "search"):
                cells = []
                for s in sizes:
                    run = next((x for x in rows.get(s, {}).get("endpoints", {}).get(name, []) if x["connections"] == 16), None)
                    cells.append(f"{run['p95_ms']:.2f}" if run else "—")
                out.append(f"| {engine} | {name} | " + " | ".join(cells) + " |")


def tables(suite):
    out = []
    if suite["http"]:
        http_tables(suite, out)
    if suite.get("dispatch"):
        out.append("\n### Scheduled sends (./bench.sh dispatch)\n")
        out.append("| database | emails | due over | received (twice) | lateness p50 / p95 / p99 / max (ms) | emails/s | target |")
        out.append("|---|---|---|---|---|---|---|")
        for d in suite["dispatch"]:
            lat = d["lateness_ms"]
            if d["over_seconds"] == 0:
                over, rate = "one instant", f"{d['emails_per_second']:.0f}"
                target = f"≥ 500/s — {verdict(d['emails_per_second'] >= 500)}"
            else:
                over, rate = f"{d['over_seconds']:.0f} s", "—"
                target = f"p99 ≤ 1000 — {verdict(lat['p99'] <= 1000)}"
            out.append(f"| {d['database']} | {d['messages']:,} | {over} | {d['received']:,} ({d['received_twice']}) "
                       f"| {lat['p50']:.0f} / {lat['p95']:.0f} / "
                       f"{lat['p99']:.0f} / {lat['max']:.0f} | {rate} | {target} |")
    if suite.get("pages"):
        out.append("\n### Pages (release build; gzip as sent; Lighthouse mobile preset)\n")
        out.append("| page | transfer (gzip) | Lighthouse performance | accessibility | target |")
        out.append("|---|---|---|---|---|")
        for p in suite["pages"]:
            ok = (p["gzip_bytes"] / 1024 <= PAGE_KIB and p["performance"] >= LIGHTHOUSE_PERF
                  and p["accessibility"] >= LIGHTHOUSE_A11Y)
            out.append(f"| {p['page']} | {p['gzip_bytes'] / 1024:.1f} KiB | {p['performance']:.0f} | "
                       f"{p['accessibility']:.0f} | ≤ {PAGE_KIB} KiB, ≥ {LIGHTHOUSE_PERF}, {LIGHTHOUSE_A11Y} — {verdict(ok)} |")
    return "\n".join(out)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument("--engines", default="sqlite,postgres")
    parser.add_argument("--connections", default="1,16,64")
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--pool", type=int, default=16, help="DATABASE_MAX_CONNECTIONS of the server")
    parser.add_argument("--port", type=int, default=3127)
    parser.add_argument("--no-pages", action="store_true")
    parser.add_argument("--print", action="store_true", help="only print the tables of the last run")
    parser.add_argument("--only-pages", action="store_true",
                        help="measure the pages again, keeping the last run's requests (after a front-end change)")
    args = parser.parse_args()
    args.sizes = [int(s) for s in args.sizes.split(",")]
    args.connections = [int(c) for c in args.connections.split(",")]
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = RESULTS / "suite.json"
    dispatch = RESULTS / "dispatch.jsonl"
    if args.print:
        # Only what `./bench.sh dispatch` measured, if the suite has not run yet.
        suite = json.loads(out.read_text()) if out.exists() else {"http": []}
        # `./bench.sh dispatch` may have run since.
        if dispatch.exists():
            suite["dispatch"] = [json.loads(l) for l in dispatch.read_text().splitlines() if l.strip()]
            if out.exists():
                out.write_text(json.dumps(suite, indent=2))
        print(tables(suite))
        return
    if args.only_pages:
        suite = json.loads(out.read_text()) if out.exists() else {"http": []}
        suite["pages"] = pages_benchmark(args)
        out.write_text(json.dumps(suite, indent=2))
        print(tables(suite))
        return
    urls = server_functions()
    suite = {"machine": {"cores": os.cpu_count()}, "seconds_per_run": args.seconds, "http": []}
    for engine in args.engines.split(","):
        for n in args.sizes:
            suite["http"].append(http_benchmarks(engine, n, args, urls))
            out.write_text(json.dumps(suite, indent=2))
    if dispatch.exists():
        suite["dispatch"] = [json.loads(l) for l in dispatch.read_text().splitlines() if l.strip()]
    if not args.no_pages:
        suite["pages"] = pages_benchmark(args)
    out.write_text(json.dumps(suite, indent=2))
    print(tables(suite))


if __name__ == "__main__":
    main()
