"""The guide's stack, as the SQLAlchemy parity test (engine/sqla_parity_test.go)
runs it: SQLAlchemy 1.4's async engine over asyncpg, one pool connection
(pool_size=1, max_overflow=0), and N checkouts one after another, each
`async with engine.connect()` (or `engine.begin()` with --begin) running
the given statements once.

It prints one JSON object: {"sqlalchemy": version, "asyncpg": version,
"holds": [seconds per checkout, from entering the `async with` to leaving it:
the time the connection is out of the pool, pre-ping and reset included]}.

Run it with Debian's /usr/bin/python3 (python3-sqlalchemy, python3-asyncpg)
or any python3 with `pip install 'sqlalchemy<2' asyncpg`.
"""

import argparse
import asyncio
import json
import time

import asyncpg
import sqlalchemy
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine


async def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--url", required=True, help="postgresql+asyncpg://user@host:port/db")
    ap.add_argument("--app-name", default="sqla-parity")
    ap.add_argument("--checkouts", type=int, default=10)
    ap.add_argument("--sql", action="append", required=True, help="a statement; repeat for more")
    ap.add_argument("--pre-ping", action="store_true")
    ap.add_argument("--begin", action="store_true", help="engine.begin() instead of engine.connect()")
    ap.add_argument("--isolation-level", default=None, help="e.g. AUTOCOMMIT; default: the dialect's")
    ap.add_argument("--reset-on-return", default="rollback", choices=["rollback", "commit", "none"])
    ap.add_argument("--lifo", action="store_true")
    ap.add_argument("--marker-dsn", default=None,
                    help="postgresql://... : before each checkout, run SELECT 'planrun-parity-marker' on a "
                         "connection of its own (application_name APP-marker), so that the server log "
                         "shows where each checkout begins")
    args = ap.parse_args()

    kw = dict(
        pool_size=1,
        max_overflow=0,
        pool_pre_ping=args.pre_ping,
        pool_reset_on_return=None if args.reset_on_return == "none" else args.reset_on_return,
        pool_use_lifo=args.lifo,
        connect_args={"server_settings": {"application_name": args.app_name}},
    )
    if args.isolation_level:
        kw["isolation_level"] = args.isolation_level
    engine = create_async_engine(args.url, **kw)
    holds = []
    marker = None
    if args.marker_dsn:
        marker = await asyncpg.connect(args.marker_dsn, server_settings={"application_name": args.app_name + "-marker"})
    try:
        for _ in range(args.checkouts):
            if marker is not None:
                await marker.execute("SELECT 'planrun-parity-marker'")
            start = time.perf_counter()
            ctx = engine.begin() if args.begin else engine.connect()
            async with ctx as conn:
                for sql in args.sql:
                    await conn.execute(text(sql))
            holds.append(time.perf_counter() - start)
    finally:
        await engine.dispose()
        if marker is not None:
            await marker.close()
    print(json.dumps({"sqlalchemy": sqlalchemy.__version__, "asyncpg": asyncpg.__version__, "holds": holds}))


asyncio.run(main())
