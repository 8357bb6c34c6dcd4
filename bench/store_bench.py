"""What the encrypted store costs, measured against plainer ways in the same run.

(a) Bulk inserts of N rows into a keyed file: raw `sqlcipher3` executemany
    (the floor), SQLAlchemy Core `insert()` executemany on our engine, Core plus
    the outbox rows an import writes (`record_bulk`), and ORM `add_all` of an
    `Entity` with the outbox hooks (what a use case does, row by row).
(b) The page cache: random point lookups by an indexed column in a table of
    200k rows, SQLCipher with a 2 MiB and a 64 MiB page cache against a plain
    (unencrypted) stdlib `sqlite3` file with the same data and cache. A cache
    miss costs SQLCipher a page decryption and HMAC check; a hit costs nothing.
(c) Unlocking: argon2id at `DEFAULT_KDF` (once per login) against opening a
    connection with the raw key (every connection), and against what every
    open would cost with a SQLCipher passphrase key (PBKDF2) instead.

The bench tables live in their own `MetaData`; the real schema is untouched.
"""

from __future__ import annotations

import argparse
import random
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar

from sqlalchemy import BigInteger, MetaData, String, insert
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from bench import Figure, format_table, median_seconds, with_ratios
from erp_desktop.domain.ids import new_id
from erp_desktop.models.base import NAMING, Base, Entity
from erp_desktop.models.changes import OutboxEntry, record_bulk
from erp_desktop.models.database import Database
from erp_desktop.store.engine import DEFAULT_CACHE_KIB, connect_raw, dbapi, make_engine
from erp_desktop.store.keyfile import DEFAULT_KDF, KeyFile

SECTION_A = "(a) bulk insert into an encrypted file"
SECTION_B = "(b) random point lookups by an indexed column (warm cache, median of 3)"
SECTION_C = "(c) unlocking (median of 5)"


class BenchBase(DeclarativeBase):
    """A separate declarative base: the bench table never joins the app's metadata."""

    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map: ClassVar[dict[Any, Any]] = Base.type_annotation_map


class BenchItem(Entity, BenchBase):
    """Shaped like a small product row, with the change-tracking columns of `Entity`."""

    __tablename__ = "bench_item"

    sku: Mapped[str] = mapped_column(String(40), index=True)
    name: Mapped[str] = mapped_column(String(200))
    qty: Mapped[int]
    price_minor: Mapped[int] = mapped_column(BigInteger)


ITEM = BenchItem.__table__
COLUMNS = ("id", "created_at", "updated_at", "updated_by", "version", "deleted_at", "sku",
           "name", "qty", "price_minor")
RAW_INSERT = (f"INSERT INTO bench_item ({', '.join(COLUMNS)}) "
              f"VALUES ({', '.join('?' for _ in COLUMNS)})")


def log(text: str) -> None:
    print(f"  … {text}", file=sys.stderr, flush=True)


def make_rows(n: int, seed: int = 7) -> list[dict[str, Any]]:
    rnd = random.Random(seed)
    now = datetime.now(UTC)
    return [{"id": new_id(), "created_at": now, "updated_at": now, "updated_by": None,
             "version": 1, "deleted_at": None, "sku": f"SKU-{i:07d}",
             "name": f"Product {i} {rnd.choice(['steel', 'cotton', 'brass', 'teak'])} "
                     f"{rnd.choice(['bolt', 'shirt', 'lamp', 'chair'])}",
             "qty": rnd.randrange(0, 500), "price_minor": rnd.randrange(100, 10_000_00)}
            for i in range(n)]


def raw_tuples(rows: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    """The same rows as the driver gets them from SQLAlchemy (blobs and text)."""
    def stamp(d: datetime) -> str:
        return d.astimezone(UTC).replace(tzinfo=None).isoformat(sep=" ")

    return [(r["id"].bytes, stamp(r["created_at"]), stamp(r["updated_at"]), None, 1, None,
             r["sku"], r["name"], r["qty"], r["price_minor"]) for r in rows]


@contextmanager
def workdir() -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix="erp-bench-"))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def new_key() -> bytes:
    import secrets

    return secrets.token_bytes(32)


def create_schema(path: Path, key: bytes) -> None:
    engine = make_engine(path, key)
    try:
        BenchBase.metadata.create_all(engine)
        OutboxEntry.__table__.create(engine)  # type: ignore[attr-defined]
    finally:
        engine.dispose()


# ----------------------------------------------------------------- (a) inserts


def insert_raw(path: Path, key: bytes, rows: list[dict[str, Any]]) -> float:
    tuples = raw_tuples(rows)
    con = connect_raw(path, key)
    try:
        start = time.perf_counter()
        con.execute("BEGIN IMMEDIATE")
        con.executemany(RAW_INSERT, tuples)
        con.execute("COMMIT")
        return time.perf_counter() - start
    finally:
        con.close()


def insert_core(path: Path, key: bytes, rows: list[dict[str, Any]]) -> float:
    engine = make_engine(path, key)
    try:
        start = time.perf_counter()
        with engine.begin() as conn:
            conn.execute(insert(ITEM), rows)
        return time.perf_counter() - start
    finally:
        engine.dispose()


def insert_core_outbox(path: Path, key: bytes, rows: list[dict[str, Any]]) -> float:
    db = Database(make_engine(path, key))
    try:
        start = time.perf_counter()
        with db.write(uuid.uuid4()) as s:
            s.execute(insert(ITEM), rows)
            record_bulk(s, "bench_item", rows)
        return time.perf_counter() - start
    finally:
        db.dispose()


def insert_orm(path: Path, key: bytes, rows: list[dict[str, Any]]) -> float:
    db = Database(make_engine(path, key))
    try:
        start = time.perf_counter()
        with db.write(uuid.uuid4()) as s:
            s.add_all(BenchItem(id=r["id"], sku=r["sku"], name=r["name"], qty=r["qty"],
                                price_minor=r["price_minor"]) for r in rows)
        return time.perf_counter() - start
    finally:
        db.dispose()


def bench_inserts(root: Path, n: int) -> list[Figure]:
    rows = make_rows(n)
    variants = [
        ("raw sqlcipher3 executemany", insert_raw, "the floor: no SQLAlchemy"),
        ("SQLAlchemy Core insert()", insert_core, "type processing, no outbox"),
        ("Core + record_bulk outbox", insert_core_outbox, "the import path: 2 rows per row"),
        ("ORM add_all + outbox hooks", insert_orm, "a use case: versioned, outbox JSON"),
    ]
    figures = []
    for name, fn, note in variants:
        path = root / f"insert-{fn.__name__}.erp"
        key = new_key()
        create_schema(path, key)
        log(f"{name}: {n:,} rows")
        seconds = fn(path, key, rows)
        figures.append(Figure(SECTION_A, name, n / seconds, "rows/s", note=note))
    return with_ratios(figures, "raw sqlcipher3 executemany")


# -------------------------------------------------------------- (b) page cache


def build_lookup_files(root: Path, n: int) -> tuple[Path, bytes, Path, list[str]]:
    rows = make_rows(n, seed=11)
    tuples = raw_tuples(rows)
    key = new_key()
    encrypted = root / "lookup.erp"
    create_schema(encrypted, key)
    log(f"building a {n:,}-row encrypted file and its plain twin")
    insert_raw(encrypted, key, rows)

    plain = root / "lookup-plain.sqlite"
    con = sqlite3.connect(plain, isolation_level=None)
    try:
        src = connect_raw(encrypted, key)
        try:
            for (sql,) in src.execute("SELECT sql FROM sqlite_master WHERE sql IS NOT NULL "
                                      "AND name LIKE '%bench_item%'"):
                con.execute(sql)
        finally:
            src.close()
        con.execute("PRAGMA journal_mode = WAL")
        con.execute("BEGIN")
        con.executemany(RAW_INSERT, tuples)
        con.execute("COMMIT")
        con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        con.close()
    return encrypted, key, plain, [r["sku"] for r in rows]


def _plain_connection(path: Path, cache_kib: int) -> sqlite3.Connection:
    con = sqlite3.connect(path, isolation_level=None)
    for pragma in ("PRAGMA journal_mode = WAL", "PRAGMA synchronous = FULL",
                   "PRAGMA temp_store = MEMORY", f"PRAGMA cache_size = -{cache_kib}"):
        con.execute(pragma)
    return con


def warm(con: Any) -> None:
    """Read the whole table and its index once, as a running app has: a cache big
    enough keeps them all, a small one keeps only the pages read last."""
    con.execute("SELECT count(*), sum(length(name)) FROM bench_item").fetchone()
    con.execute("SELECT count(*) FROM bench_item WHERE sku >= ''").fetchone()


def lookups_per_second(con: Any, skus: list[str], m: int, seed: int) -> float:
    sql = "SELECT name, price_minor FROM bench_item WHERE sku = ?"
    wanted = random.Random(seed).choices(skus, k=m)
    start = time.perf_counter()
    for sku in wanted:
        row = con.execute(sql, (sku,)).fetchone()
        if row is None:
            raise RuntimeError(f"{sku} not found: the bench data is wrong")
    return m / (time.perf_counter() - start)


def bench_cache(root: Path, n: int, m: int, rounds: int = 3) -> list[Figure]:
    encrypted, key, plain, skus = build_lookup_files(root, n)
    size_mib = sum(p.stat().st_size for p in encrypted.parent.glob("lookup.erp*")) / 2**20
    figures = []
    for cache_kib in (2 * 1024, DEFAULT_CACHE_KIB):
        label = f"{cache_kib // 1024} MiB cache"
        log(f"{rounds} × {m:,} lookups each, {label}")
        plain_con = _plain_connection(plain, cache_kib)
        enc_con = connect_raw(encrypted, key, cache_kib=cache_kib)
        try:
            warm(plain_con)
            warm(enc_con)
            plain_rates, enc_rates = [], []
            for r in range(rounds):  # interleaved: a busy neighbour slows both alike
                plain_rates.append(lookups_per_second(plain_con, skus, m, seed=r))
                enc_rates.append(lookups_per_second(enc_con, skus, m, seed=r))
        finally:
            plain_con.close()
            enc_con.close()
        plain_rate, enc_rate = statistics.median(plain_rates), statistics.median(enc_rates)
        figures.append(Figure(SECTION_B, f"plain sqlite3, {label}", plain_rate, "lookups/s",
                              1.0, "baseline for this cache size"))
        figures.append(Figure(SECTION_B, f"SQLCipher, {label}", enc_rate, "lookups/s",
                              enc_rate / plain_rate,
                              f"encrypted/plain; file {size_mib:.0f} MiB, {n:,} rows"))
    return figures


# ------------------------------------------------------------- (c) unlocking


def bench_unlock(root: Path) -> list[Figure]:
    password = "correct horse battery"
    key_path = root / "unlock.erp.key"
    created = KeyFile.create(key_path, kdf=DEFAULT_KDF)
    created.keyfile.add_user_slot("owner", password, created.db_key)
    created.keyfile.save()
    db_path = root / "unlock.erp"
    create_schema(db_path, created.db_key)

    def unlock() -> None:
        KeyFile.load(key_path, kdf=DEFAULT_KDF).unlock_with_password("owner", password)

    def open_raw() -> None:
        connect_raw(db_path, created.db_key).close()

    phrase_path = root / "passphrase.db"
    con = dbapi.connect(str(phrase_path))
    con.execute("PRAGMA key = 'a passphrase typed by a person'")
    con.execute("CREATE TABLE t (x)")
    con.commit()
    con.close()

    def open_passphrase() -> None:
        c = dbapi.connect(str(phrase_path))
        c.execute("PRAGMA key = 'a passphrase typed by a person'")
        c.execute("SELECT count(*) FROM sqlite_master").fetchone()
        c.close()

    kdf = DEFAULT_KDF
    log("argon2id unlock, raw-key and passphrase-key opens, 5 times each")
    figures = [
        Figure(SECTION_C, "connection open, raw key", median_seconds(open_raw, 5) * 1000, "ms",
               note="every connection (pool of 4)"),
        Figure(SECTION_C, "argon2id unlock (DEFAULT_KDF)", median_seconds(unlock, 5) * 1000,
               "ms", note=f"once per login: t={kdf.time_cost}, m={kdf.memory_kib // 1024} MiB, "
                          f"p={kdf.parallelism}"),
        Figure(SECTION_C, "connection open, passphrase key", median_seconds(open_passphrase, 5)
               * 1000, "ms", note="what every open would cost with SQLCipher's own PBKDF2"),
    ]
    return with_ratios(figures, "connection open, raw key")


def run(quick: bool = False) -> list[Figure]:
    n_insert = 10_000 if quick else 100_000
    n_lookup_rows = 50_000 if quick else 200_000
    m_lookups = 5_000 if quick else 20_000
    with workdir() as root:
        figures = bench_inserts(root, n_insert)
        figures += bench_cache(root, n_lookup_rows, m_lookups)
        figures += bench_unlock(root)
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.store_bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="smaller sizes")
    args = parser.parse_args(argv)
    print(format_table(run(args.quick)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
