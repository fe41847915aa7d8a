"""The reference service: the guide's own stack, to learn from and to test
planrun against (issue: the service under test).

FastAPI, SQLAlchemy 1.4's async engine over asyncpg, one QueuePool per
process, configured from the environment as a finance API configures it:

    DATABASE_URL        postgres://user:pass@host:port/db?application_name=NAME
                        (required; planrun hands it one pointing at its proxy)
    POOL_SIZE           pool_size, default 20
    POOL_MAX_OVERFLOW   max_overflow, default 30
    POOL_TIMEOUT        pool_timeout in seconds, default 30
    POOL_RECYCLE        pool_recycle in seconds, default 1800
    POOL_PRE_PING       1 (default) or 0
    APPLICATION_NAME    application_name of its backends when DATABASE_URL
                        names none; default "reference-service"
    ACCOUNTS            accounts created at startup when the table is empty,
                        default 10000

Endpoints (each checks a connection out of the pool the way application
code does: `async with engine.connect()` or `engine.begin()`):

    GET  /healthz                   SELECT 1: ready once the pool can connect
    GET  /accounts/{id}/balance     a fast read
    GET  /report?hold_ms=100        a report that holds its connection hold_ms
                                    (pg_sleep inside the statement)
    POST /transfers                 {"from": A, "to": B, "amount": N}: two
                                    UPDATEs in one transaction
    POST /leak                      checks a connection out and never returns
                                    it (a real bug to catch): the backend stays
                                    idle in transaction with the query
                                    "SELECT 'planrun-leak', <n>"
    POST /slow-transaction?seconds=2  a transaction left idle between two
                                    statements for `seconds`
    GET  /pool                      the pool's own view: size, checked out,
                                    overflow, leaked

A pool that cannot hand out a connection within POOL_TIMEOUT raises
SQLAlchemy's TimeoutError; the service answers 503 with its message, as an
API behind a load balancer would.

Run it: DATABASE_URL=postgres://... python3 -m uvicorn app:app --port 8000
(Debian: apt-get install python3-fastapi python3-uvicorn python3-sqlalchemy
python3-asyncpg, then /usr/bin/python3; macOS: pip install fastapi uvicorn
'sqlalchemy<2' asyncpg).
"""

import asyncio
import os
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import sqlalchemy
from fastapi import FastAPI, HTTPException
from fastapi.responses import PlainTextResponse
from pydantic import BaseModel, Field
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine


def env_int(name, default):
    raw = os.environ.get(name, "")
    return int(raw) if raw.strip() else default


def engine_url(dsn):
    """DATABASE_URL as SQLAlchemy's asyncpg dialect wants it, and the
    server settings asyncpg cannot take from the URL: application_name
    becomes a server setting; sslmode=disable is asyncpg's default (other
    sslmode values are passed on as ssl)."""
    parts = urlsplit(dsn)
    query = dict(parse_qsl(parts.query))
    settings = {"application_name": query.pop("application_name", "") or os.environ.get("APPLICATION_NAME", "reference-service")}
    connect_args = {"server_settings": settings}
    sslmode = query.pop("sslmode", "")
    if sslmode and sslmode != "disable":
        connect_args["ssl"] = sslmode
    scheme = "postgresql+asyncpg"
    return urlunsplit((scheme, parts.netloc, parts.path, urlencode(query), parts.fragment)), connect_args


url, connect_args = engine_url(os.environ["DATABASE_URL"])
engine = create_async_engine(
    url,
    connect_args=connect_args,
    pool_size=env_int("POOL_SIZE", 20),
    max_overflow=env_int("POOL_MAX_OVERFLOW", 30),
    pool_timeout=env_int("POOL_TIMEOUT", 30),
    pool_recycle=env_int("POOL_RECYCLE", 1800),
    pool_pre_ping=os.environ.get("POOL_PRE_PING", "1") != "0",
)

app = FastAPI(title="planrun reference service")

# Connections checked out by /leak and never returned.
leaked = []


@app.on_event("startup")
async def create_accounts():
    """The accounts table, created once (an advisory lock serialises the
    workers of one service)."""
    async with engine.begin() as conn:
        await conn.execute(text("SELECT pg_advisory_xact_lock(7262)"))
        await conn.execute(text(
            "CREATE TABLE IF NOT EXISTS planrun_accounts (id int PRIMARY KEY, balance bigint NOT NULL)"))
        await conn.execute(text(
            "INSERT INTO planrun_accounts SELECT g, 1000000 FROM generate_series(1, :n) g ON CONFLICT DO NOTHING"),
            {"n": env_int("ACCOUNTS", 10000)})


@app.on_event("shutdown")
async def close_pool():
    await engine.dispose()


@app.exception_handler(sqlalchemy.exc.TimeoutError)
async def pool_timeout(request, exc):
    return PlainTextResponse(f"pool timeout: {exc}", status_code=503)


@app.get("/healthz")
async def healthz():
    async with engine.connect() as conn:
        await conn.execute(text("SELECT 1"))
    return {"ok": True}


@app.get("/accounts/{account}/balance")
async def balance(account: int):
    async with engine.connect() as conn:
        row = (await conn.execute(text("SELECT balance FROM planrun_accounts WHERE id = :id"), {"id": account})).first()
    if row is None:
        raise HTTPException(status_code=404, detail=f"no account {account}")
    return {"account": account, "balance": row[0]}


@app.get("/report")
async def report(hold_ms: int = 100):
    async with engine.connect() as conn:
        row = (await conn.execute(
            text("SELECT count(*), sum(balance) FROM planrun_accounts, pg_sleep(:s)"),
            {"s": max(hold_ms, 0) / 1000})).first()
    return {"accounts": row[0], "total": row[1]}


class Transfer(BaseModel):
    source: int = Field(alias="from")
    target: int = Field(alias="to")
    amount: int


@app.post("/transfers")
async def transfer(t: Transfer):
    if t.source == t.target:
        return {"moved": 0}
    async with engine.begin() as conn:
        # Lock in id order: two opposite transfers never deadlock.
        for account, delta in sorted([(t.source, -t.amount), (t.target, t.amount)]):
            res = await conn.execute(
                text("UPDATE planrun_accounts SET balance = balance + :d WHERE id = :id"), {"d": delta, "id": account})
            if res.rowcount != 1:
                raise HTTPException(status_code=404, detail=f"no account {account}")
    return {"moved": t.amount}


@app.post("/leak")
async def leak():
    conn = await engine.connect()
    await conn.execute(text(f"SELECT 'planrun-leak', {len(leaked) + 1}"))
    leaked.append(conn)  # never closed: the bug a leak check must catch
    return {"leaked": len(leaked)}


@app.post("/slow-transaction")
async def slow_transaction(seconds: float = 2.0):
    async with engine.begin() as conn:
        await conn.execute(text("SELECT 'planrun-slow-transaction'"))
        await asyncio.sleep(max(seconds, 0))  # idle in transaction
        await conn.execute(text("SELECT 1"))
    return {"held": seconds}


@app.get("/pool")
async def pool():
    p = engine.pool
    return {"size": p.size(), "checked_out": p.checkedout(), "overflow": p.overflow(), "leaked": len(leaked)}
