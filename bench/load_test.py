"""Load test: gunicorn (production settings) + PostgreSQL + the demo district, many users at once.

    pip install -e '.[bench]'
    .venv/bin/python bench/load_test.py [--users 50] [--duration 300] [--workers 4]
        [--database-url postgres://postgres@127.0.0.1:5432/kechuang_load] [--enterprises 100000]
        [--think 1 3] [--ramp 15] [--server-defaults]

Builds the database the first time (`kechuang demo-data --enterprises N`, then VACUUM ANALYZE;
an existing district is reused), collects static files, starts gunicorn with N workers and
`kechuang worker`, logs each virtual user in as a demo user (officer, station, enterprise) and
runs a mix of lists, filters, profiles, dashboards, policy matches and API calls, each user
waiting --think seconds between requests. Prints p50/p95/p99 per request kind, errors and
requests/s, CPU per request (gunicorn + PostgreSQL), and two reference figures measured in the
same run: /healthz and a static file.
Never a test; figures go to docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import secrets
import signal
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "kechuang-demo-2026"  # kechuang.core.demo.DEMO_PASSWORD
# p95 targets the issues set (ms); the other kinds are reported without one.
TARGETS = {"list": 150, "filter": 150, "profile": 150, "plan dashboard": 500}


def pct(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


@dataclass
class Stats:
    times: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    samples: list[str] = field(default_factory=list)

    def record(self, kind: str, ms: float, error: str | None) -> None:
        self.times[kind].append(ms)
        if error:
            self.errors[kind] += 1
            if len(self.samples) < 10:
                self.samples.append(f"{kind}: {error}")


class CpuMeter:
    """CPU seconds spent by gunicorn's workers and this database's PostgreSQL backends.

    On a shared machine wall-clock latency mostly measures the neighbours; the CPU a request
    costs does not, and gives the throughput an idle server of N cores could sustain. Backends
    are sampled every second (a connection closed between samples loses < 1 s of accounting).
    """

    TICK = os.sysconf("SC_CLK_TCK")

    def __init__(self, gunicorn_pid: int, database_url: str):
        import psycopg

        self.gunicorn_pid = gunicorn_pid
        self.dbname = database_url.rsplit("/", 1)[1]
        self.conn = psycopg.connect(database_url, autocommit=True)
        self.first: dict[tuple[str, int], float] = {}
        self.last: dict[tuple[str, int], float] = {}

    @classmethod
    def cpu_of(cls, pid: int) -> float | None:
        try:
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            return None
        return (int(fields[11]) + int(fields[12])) / cls.TICK  # utime + stime

    def pids(self) -> list[tuple[str, int]]:
        children = Path(f"/proc/{self.gunicorn_pid}/task/{self.gunicorn_pid}/children")
        web = [("web", int(p)) for p in children.read_text().split()] if children.exists() else []
        rows = self.conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
            [self.dbname],
        ).fetchall()
        return web + [("db", pid) for (pid,) in rows]

    def sample(self, baseline: bool = False) -> None:
        for key in self.pids():
            cpu = self.cpu_of(key[1])
            if cpu is None:
                continue
            self.first.setdefault(key, cpu if baseline else 0.0)
            self.last[key] = cpu

    def seconds(self) -> dict[str, float]:
        spent = {"web": 0.0, "db": 0.0}
        for key, cpu in self.last.items():
            spent[key[0]] += cpu - self.first.get(key, 0.0)
        return spent


def django_env(args, static_root: str) -> dict[str, str]:
    """Production settings (DEBUG off, manifest static files) on plain HTTP for the bench."""
    env = dict(os.environ)
    env.update(
        DEBUG="0",
        SECRET_KEY=env.get("SECRET_KEY") or "load-test-" + secrets.token_hex(24),
        ALLOWED_HOSTS="127.0.0.1,localhost",
        HTTPS="0",
        DATABASE_URL=args.database_url,
        STATIC_ROOT=static_root,
        LOG_LEVEL="ERROR",
        PYTHONPATH=str(ROOT) + os.pathsep + env.get("PYTHONPATH", ""),
    )
    env.pop("STATIC_MANIFEST", None)
    return env


def kechuang(env, *argv: str, capture: bool = False) -> str:
    result = subprocess.run(
        [sys.executable, "-m", "kechuang", *argv],
        cwd=ROOT,
        env=env,
        check=True,
        text=True,
        stdout=subprocess.PIPE if capture else None,
    )
    return result.stdout if capture else ""


FIXTURE_SCRIPT = """
import json
from django.db.models import Max
from rest_framework.authtoken.models import Token
from kechuang.core.models import User
from kechuang.enterprises.models import AnnualReport, Enterprise
from kechuang.plans.models import Plan
from kechuang.policies.models import PolicyItem

officer = User.objects.get(username="officer")
station = User.objects.get(username="station")
enterprise_user = User.objects.get(username="enterprise")
ids = list(Enterprise.objects.order_by("?").values_list("pk", flat=True)[:5000])
station_ids = list(
    Enterprise.objects.visible_to(station).order_by("?").values_list("pk", flat=True)[:2000]
)
print(json.dumps({
    "enterprises": Enterprise.objects.count(),
    "ids": ids,
    "station_ids": station_ids,
    "own": enterprise_user.enterprise_id,
    "year": AnnualReport.objects.aggregate(y=Max("year"))["y"],
    "items": list(PolicyItem.objects.exclude(rule=None).values_list("pk", flat=True)),
    "plans": list(Plan.objects.values_list("pk", flat=True)),
    "tokens": {u.username: Token.objects.get_or_create(user=u)[0].key
               for u in (officer, station, enterprise_user)},
}))
"""


def prepare(args, env) -> dict:
    """Migrate, build the district once, analyse, collect static files; return ids to request."""
    kechuang(env, "migrate", "--noinput", "-v", "0")
    count = json.loads(
        kechuang(
            env,
            "shell",
            "-c",
            "from kechuang.enterprises.models import Enterprise; print(Enterprise.objects.count())",
            capture=True,
        )
        .strip()
        .splitlines()[-1]
    )
    if count == 0:
        print(f"building the demo district with {args.enterprises:,} enterprises ...", flush=True)
        started = time.perf_counter()
        kechuang(env, "demo-data", "--enterprises", str(args.enterprises), "-v", "0")
        print(f"  built in {time.perf_counter() - started:.0f} s; VACUUM ANALYZE ...", flush=True)
        kechuang(env, "shell", "-c", VACUUM_SCRIPT)
    elif count != args.enterprises:
        print(f"note: reusing a district of {count:,} enterprises (asked {args.enterprises:,})")
    if not args.server_defaults:
        # docs/operations.md's per-database settings (shared_buffers needs the server's config).
        dbname = args.database_url.rsplit("/", 1)[1]
        for setting in PG_SETTINGS:
            subprocess.run(
                ["psql", args.database_url, "-qc", f'ALTER DATABASE "{dbname}" SET {setting}'],
                check=True,
            )
        print("database settings: " + ", ".join(PG_SETTINGS))
    kechuang(env, "collectstatic", "--noinput", "-v", "0")
    return json.loads(kechuang(env, "shell", "-c", FIXTURE_SCRIPT, capture=True).splitlines()[-1])


# docs/operations.md: "PostgreSQL settings for the enterprise register" (2-core server shared
# with the web processes: no parallel query).
PG_SETTINGS = [
    "jit = off",
    "random_page_cost = 1.1",
    "work_mem = '32MB'",
    "max_parallel_workers_per_gather = 0",
]

VACUUM_SCRIPT = """
from django.db import connection
connection.ensure_connection()
connection.connection.autocommit = True
with connection.cursor() as c:
    c.execute("VACUUM (ANALYZE)")
"""


def start_servers(args, env, logs) -> list[subprocess.Popen]:
    gunicorn = subprocess.Popen(
        [
            sys.executable, "-m", "gunicorn", "kechuang.wsgi:application",
            "--bind", f"127.0.0.1:{args.port}", "--workers", str(args.workers),
            "--timeout", "60", "--log-level", "warning",
        ],
        cwd=ROOT, env=env,
        stdout=logs[0], stderr=subprocess.STDOUT,
    )  # fmt: skip
    worker = subprocess.Popen(
        [sys.executable, "-m", "kechuang", "worker", "--no-startup-delay"],
        cwd=ROOT, env=env,
        stdout=logs[1], stderr=subprocess.STDOUT,
    )  # fmt: skip
    return [gunicorn, worker]


def wait_until_up(base: str, processes, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for proc in processes:
            if proc.poll() is not None:
                raise SystemExit(f"{proc.args[:3]} exited with {proc.returncode}")
        try:
            body = httpx.get(f"{base}/healthz", timeout=2).json()
            if body.get("worker") == "ok":
                return
        except (httpx.HTTPError, ValueError):
            pass
        time.sleep(0.5)
    raise SystemExit("gunicorn and the worker did not come up within a minute")


CSRF_RE = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


async def log_in(client: httpx.AsyncClient, username: str, gate: asyncio.Semaphore) -> None:
    """Open a session as a person does once in the morning (not measured; a few at a time)."""
    async with gate:
        for attempt in range(3):
            try:
                page = await client.get("/accounts/login/", timeout=120)
                token = CSRF_RE.search(page.text).group(1)
                response = await client.post(
                    "/accounts/login/",
                    data={"username": username, "password": PASSWORD, "csrfmiddlewaretoken": token},
                    timeout=120,
                )
            except httpx.HTTPError:
                if attempt == 2:
                    raise
                continue
            location = response.headers.get("location", "")
            if response.status_code == 302 and "/login/" not in location:
                return
            raise SystemExit(f"could not log in as {username}: HTTP {response.status_code}")


def mix(persona: str, fx: dict, rng: random.Random):
    """Request kinds with weights for one persona: (kind, path, params, headers, weight)."""
    year = fx["year"]
    api = {"Authorization": f"Token {fx['tokens'][persona]}"}
    if persona == "officer":
        filters = [
            {"year": year, "revenue_min": 2000, "revenue_max": 5000, "rd_ratio_min": 5},
            {"qualification": "HTE", "ordering": "-registered_on"},
            {"q": "芯", "sector": 2},
            {"qualification": "HTE", "revenue_min": 1000, "year": year},
        ]
        return [
            ("list", lambda: ("/enterprises/", {"page": rng.randint(1, 200)}, None), 20),
            ("filter", lambda: ("/enterprises/", rng.choice(filters), None), 20),
            ("profile", lambda: (f"/enterprises/{rng.choice(fx['ids'])}/", None, None), 25),
            ("dashboard", lambda: ("/", None, None), 8),
            ("plan dashboard", lambda: (f"/plans/{rng.choice(fx['plans'])}/", None, None), 5),
            (
                "policy matches",
                lambda: (f"/policies/items/{rng.choice(fx['items'])}/eligible/", None, None),
                7,
            ),
            ("api", lambda: ("/api/enterprises/", {"page": rng.randint(1, 100)}, api), 10),
            ("api", lambda: (f"/api/enterprises/{rng.choice(fx['ids'])}/", None, api), 5),
        ]
    if persona == "station":
        filters = [
            {"qualification": "HTE", "revenue_min": 1000, "year": year},
            {"qualification": "HTE"},
            {"q": "科技"},
        ]
        ids = fx["station_ids"]
        return [
            ("list", lambda: ("/enterprises/", {"page": rng.randint(1, 20)}, None), 25),
            ("filter", lambda: ("/enterprises/", rng.choice(filters), None), 25),
            ("profile", lambda: (f"/enterprises/{rng.choice(ids)}/", None, None), 30),
            ("dashboard", lambda: ("/", None, None), 10),
            ("api", lambda: ("/api/enterprises/", {"page": rng.randint(1, 10)}, api), 10),
        ]
    return [
        ("dashboard", lambda: ("/", None, None), 25),
        ("profile", lambda: (f"/enterprises/{fx['own']}/", None, None), 25),
        ("policy matches", lambda: ("/policies/mine/", None, None), 35),
        ("api", lambda: ("/api/enterprises/", None, api), 15),
    ]


async def virtual_user(
    n: int, client: httpx.AsyncClient, persona: str, args, fx, stats: Stats, times: tuple
) -> None:
    """One person: requests from the persona's mix with think time; only the window counts."""
    measure_from, stop_at = times
    rng = random.Random(n)
    await asyncio.sleep(rng.uniform(0, args.ramp / 2))
    choices = mix(persona, fx, rng)
    weights = [c[-1] for c in choices]
    while time.monotonic() < stop_at:
        kind, make, _weight = rng.choices(choices, weights)[0]
        path, params, headers = make()
        started = time.perf_counter()
        error = None
        try:
            response = await client.get(path, params=params, headers=headers)
            if response.status_code != 200:
                error = f"HTTP {response.status_code} {path}"
        except httpx.HTTPError as exc:
            error = f"{type(exc).__name__} {path}"
        if time.monotonic() >= measure_from:  # the ramp warms the workers up
            stats.record(kind, (time.perf_counter() - started) * 1000, error)
        await asyncio.sleep(rng.uniform(*args.think))


async def reference_probe(
    args, static_path: str, stats: Stats, measure_from: float, stop_at: float
) -> None:
    """The floor under the mix: /healthz (WSGI + middleware + two trivial queries), a static file."""
    await asyncio.sleep(max(0.0, measure_from - time.monotonic()))
    async with httpx.AsyncClient(base_url=args.base, timeout=30) as client:
        while time.monotonic() < stop_at:
            for kind, path in (("ref: /healthz", "/healthz"), ("ref: static file", static_path)):
                started = time.perf_counter()
                error = None
                try:
                    response = await client.get(path)
                    if response.status_code != 200:
                        error = f"HTTP {response.status_code} {path}"
                except httpx.HTTPError as exc:
                    error = f"{type(exc).__name__} {path}"
                stats.record(kind, (time.perf_counter() - started) * 1000, error)
            await asyncio.sleep(1)


async def cpu_sampler(meter: CpuMeter, measure_from: float, stop_at: float) -> None:
    await asyncio.sleep(max(0.0, measure_from - time.monotonic()))
    meter.sample(baseline=True)
    while time.monotonic() < stop_at:
        await asyncio.sleep(1)
        meter.sample()


async def run_load(args, fx, static_path: str, meter: CpuMeter) -> tuple[Stats, Stats, float]:
    personas = ["officer"] * 5 + ["station"] * 3 + ["enterprise"] * 2
    stats, reference = Stats(), Stats()
    clients = [httpx.AsyncClient(base_url=args.base, timeout=30) for _ in range(args.users)]
    try:
        gate = asyncio.Semaphore(args.workers)
        print(f"logging {args.users} users in ...", flush=True)
        await asyncio.gather(
            *(log_in(c, personas[n % len(personas)], gate) for n, c in enumerate(clients))
        )
        print(f"running {args.users} users for {args.duration:.0f} s ...", flush=True)
        measure_from = time.monotonic() + args.ramp
        times = (measure_from, measure_from + args.duration)
        await asyncio.gather(
            reference_probe(args, static_path, reference, *times),
            cpu_sampler(meter, *times),
            *(
                virtual_user(n, c, personas[n % len(personas)], args, fx, stats, times)
                for n, c in enumerate(clients)
            ),
        )
    finally:
        for client in clients:
            await client.aclose()
    return stats, reference, time.monotonic() - measure_from


def report(stats: Stats, reference: Stats, elapsed: float, args, fx, loads, cpu) -> None:
    total = sum(len(v) for v in stats.times.values())
    errors = sum(stats.errors.values())
    print()
    print(
        f"{args.users} users, {args.duration:.0f} s, think {args.think[0]:g}–{args.think[1]:g} s, "
        f"gunicorn {args.workers} workers, {fx['enterprises']:,} enterprises on PostgreSQL"
    )
    print(f"load average before {loads[0]}, after {loads[1]}")
    print()
    print(f"{'kind':<20}{'requests':>9}{'errors':>8}{'p50':>9}{'p95':>9}{'p99':>9}{'target':>9}")
    for kind in sorted(stats.times, key=lambda k: -len(stats.times[k])) + sorted(reference.times):
        source = reference if kind.startswith("ref:") else stats
        times = source.times[kind]
        target = TARGETS.get(kind)
        print(
            f"{kind:<20}{len(times):>9}{source.errors[kind]:>8}{pct(times, 50):>9.0f}"
            f"{pct(times, 95):>9.0f}{pct(times, 99):>9.0f}{target or '':>9}"
        )
    every = [t for v in stats.times.values() for t in v]
    print(
        f"{'all (mix)':<20}{total:>9}{errors:>8}{pct(every, 50):>9.0f}{pct(every, 95):>9.0f}"
        f"{pct(every, 99):>9.0f}"
    )
    print(f"\nthroughput: {total / elapsed:.1f} requests/s (mix only), errors: {errors}")
    served = total + sum(len(v) for v in reference.times.values())
    web_ms, db_ms = (1000 * cpu[k] / max(served, 1) for k in ("web", "db"))
    print(
        f"CPU per request: {web_ms + db_ms:.0f} ms (gunicorn {web_ms:.0f} ms, PostgreSQL "
        f"{db_ms:.0f} ms) → an idle server sustains about {1000 / (web_ms + db_ms):.0f} "
        f"requests/s per core of this mix"
    )
    missed = [k for k, t in TARGETS.items() if k in stats.times and pct(stats.times[k], 95) > t]
    print("p95 targets: " + ("all met" if not missed else "missed for " + ", ".join(missed)))
    for sample in stats.samples + reference.samples:
        print("  error:", sample)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--duration", type=float, default=300, help="seconds of load")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn workers")
    parser.add_argument(
        "--database-url", default="postgres://postgres@127.0.0.1:5432/kechuang_load"
    )
    parser.add_argument("--enterprises", type=int, default=100_000)
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument(
        "--think", type=float, nargs=2, default=(1.0, 3.0), metavar=("MIN", "MAX"),
        help="seconds each user waits between requests (uniform; default 1 3)",
    )  # fmt: skip
    parser.add_argument(
        "--server-defaults",
        action="store_true",
        help="keep the PostgreSQL server's settings (default: apply docs/operations.md's "
        "per-database settings: jit off, random_page_cost 1.1, work_mem 32MB, no parallel query)",
    )
    parser.add_argument(
        "--ramp", type=float, default=15, help="seconds to start all users (not measured)"
    )
    args = parser.parse_args()
    args.base = f"http://127.0.0.1:{args.port}"
    if not args.database_url.startswith("postgres"):
        raise SystemExit("--database-url must be a PostgreSQL URL")
    dbname = args.database_url.rsplit("/", 1)[1]
    admin_url = args.database_url.rsplit("/", 1)[0] + "/postgres"
    subprocess.run(
        ["psql", admin_url, "-qc", f'CREATE DATABASE "{dbname}"'],
        stderr=subprocess.DEVNULL, stdout=subprocess.DEVNULL, check=False,
    )  # fmt: skip

    workdir = Path(tempfile.mkdtemp(prefix="kechuang-load-"))
    env = django_env(args, str(workdir / "static"))
    fx = prepare(args, env)
    manifest = json.loads((workdir / "static" / "staticfiles.json").read_text())
    static_path = "/static/" + manifest["paths"]["vendor/bootstrap/bootstrap.min.css"]

    with open(workdir / "gunicorn.log", "w") as glog, open(workdir / "worker.log", "w") as wlog:
        serve_and_load(args, env, fx, static_path, [glog, wlog])
    print(f"\nserver logs in {workdir}")


def serve_and_load(args, env, fx, static_path, logs) -> None:
    processes = start_servers(args, env, logs)
    try:
        wait_until_up(args.base, processes)
        loads = [" ".join(f"{x:.2f}" for x in os.getloadavg())]
        meter = CpuMeter(processes[0].pid, args.database_url)
        stats, reference, elapsed = asyncio.run(run_load(args, fx, static_path, meter))
        loads.append(" ".join(f"{x:.2f}" for x in os.getloadavg()))
        report(stats, reference, elapsed, args, fx, loads, meter.seconds())
    finally:
        for proc in processes:
            proc.send_signal(signal.SIGTERM)
        for proc in processes:
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()


if __name__ == "__main__":
    main()
