"""PostgreSQL bulk loading for the demo at provincial scale (`seed_demo --firms 1000000`).

The demo seeding's ORM path (`bulk_create`, one scoring per assessment) is right for a few
thousand firms and far too slow for a million. On PostgreSQL above `FAST_PATH_MIN_FIRMS` the
seeding goes through here instead:

- rows are streamed with `COPY … FROM STDIN` (psycopg 3's `cursor.copy()`), in the text format,
  from lines built in Python (`Table` knows each model's columns and fills the ones a caller
  does not give with the field's default, so a new column cannot be forgotten silently);
- ids come from the tables' own sequences, reserved in one call (`reserve_ids`), so that rows
  can point at rows loaded in the same COPY stream;
- the tables' secondary indexes and their unique and foreign-key constraints are dropped before
  the load and re-created after it, from their definitions as PostgreSQL holds them
  (`pg_get_indexdef`, `pg_get_constraintdef`), read from the catalog just before the drop
  (`deferred_indexes`). What comes back is exactly what the migrations built, so it cannot
  drift from the models' Meta, and nothing changes for `makemigrations`. It all happens in the
  seeding's transaction: a failure rolls the drop back with the rows.

Progress (rows per table, elapsed seconds) goes to the function given to `set_progress`
(`seed_demo` gives its stdout).
"""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from decimal import Decimal
from functools import partial
from typing import Any

from django.db import connection, models, transaction
from django.utils import timezone

# Below this many firms the ORM path is fast enough and is kept (it is also SQLite's only path).
FAST_PATH_MIN_FIRMS = 20_000
# Bytes handed to COPY per write.
CHUNK_BYTES = 1 << 20
# Connections that load (and then index) tables side by side when not inside a transaction.
LOAD_WORKERS = 3
# How often progress is reported while a table loads.
PROGRESS_EVERY_S = 5.0

_progress: Callable[[str], Any] | None = None
_started = time.perf_counter()


def set_progress(write: Callable[[str], Any] | None) -> None:
    """Report progress lines to `write` (None: silent) and restart the elapsed clock."""
    global _progress, _started
    _progress = write
    _started = time.perf_counter()


def note(message: str) -> None:
    """One progress line, with the seconds elapsed since `set_progress`."""
    if _progress is not None:
        _progress(f"[{time.perf_counter() - _started:7.1f} s] {message}")


def use_fast_path(firms: int, fast: bool | None = None) -> bool:
    """True when seeding should go through COPY: on PostgreSQL, when asked (`fast`), or by
    default from `FAST_PATH_MIN_FIRMS` firms."""
    if connection.vendor != "postgresql":
        return False
    return fast if fast is not None else firms >= FAST_PATH_MIN_FIRMS


# --- COPY text format ------------------------------------------------------------------------

_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})
NULL = "\\N"


def text(value: Any) -> str:
    """A Python value as a field of PostgreSQL's COPY text format."""
    if value is None:
        return NULL
    if value is True:
        return "t"
    if value is False:
        return "f"
    if isinstance(value, (int, Decimal)):
        return str(value)
    if isinstance(value, dt.datetime):
        return value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, (dict, list)):
        return json.dumps(value).translate(_ESCAPES)
    return str(value).translate(_ESCAPES)


def json_text(value: Any) -> str:
    """A value for a JSON column (a bare string too is JSON there)."""
    return json.dumps(value).translate(_ESCAPES)


class Table:
    """A model's table for COPY: the columns a caller gives, in its order, then every other
    concrete column with the field's default (auto_now fields: `now`). A NOT NULL column with
    no default that the caller does not give is an error here, before any row is sent."""

    def __init__(self, model: type[models.Model], given: Sequence[str], *, now: dt.datetime):
        self.model = model
        self.name = model._meta.db_table
        fields = {str(f.column): f for f in model._meta.concrete_fields}
        unknown = [c for c in given if c not in fields]
        if unknown:
            raise ValueError(f"{self.name}: no columns {unknown}")
        self.given = list(given)
        rest: list[tuple[str, str]] = []
        for column, field in fields.items():
            if column in given or (field.primary_key and column not in given):
                continue
            rest.append((column, self._default(field, now)))
        self.columns = self.given + [c for c, _v in rest]
        # The tail of every line: the defaults, then the newline.
        self.tail = "".join("\t" + v for _c, v in rest) + "\n"

    def _default(self, field: models.Field, now: dt.datetime) -> str:
        if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
            return text(now)
        value = field.get_default()
        if isinstance(field, models.JSONField):
            return NULL if value is None and field.null else json_text(value)
        if value is None and not field.null:
            raise ValueError(f"{self.name}.{field.column} needs a value: it has no default")
        return text(value)

    def line(self, *values: str) -> str:
        """One row from the given columns' values, already in COPY text (see `text`)."""
        return "\t".join(values) + self.tail

    def copy(self, lines: Iterable[str], *, label: str | None = None, freeze: bool = False) -> int:
        """COPY the lines into the table; returns the number of rows. With `freeze` (the table
        was emptied in this transaction) the rows go in frozen: no later VACUUM rewrites them."""
        quote = connection.ops.quote_name
        sql = f"COPY {quote(self.name)} ({', '.join(quote(c) for c in self.columns)}) FROM STDIN"
        if freeze:
            sql += " WITH (FREEZE)"
        label = label or self.name
        rows = 0
        last = time.perf_counter()
        with connection.cursor() as cursor:
            raw = cursor.cursor
            with raw.copy(sql) as copy:
                buffer: list[str] = []
                size = 0
                for line in lines:
                    buffer.append(line)
                    size += len(line)
                    rows += line.count("\n")
                    if size >= CHUNK_BYTES:
                        copy.write("".join(buffer))
                        buffer.clear()
                        size = 0
                        if time.perf_counter() - last >= PROGRESS_EVERY_S:
                            last = time.perf_counter()
                            note(f"{label}: {rows:,} rows …")
                if buffer:
                    copy.write("".join(buffer))
        note(f"{label}: {rows:,} rows")
        return rows


def reserve_ids(model: type[models.Model], count: int) -> int:
    """Reserve `count` consecutive ids of the model's sequence; returns the first."""
    if count <= 0:
        return 0
    table = model._meta.db_table
    column = model._meta.pk.column
    with connection.cursor() as cursor:
        cursor.execute(
            "WITH first AS (SELECT nextval(pg_get_serial_sequence(%s, %s)) AS id) "
            "SELECT id, setval(pg_get_serial_sequence(%s, %s), id + %s - 1) FROM first",
            [table, column, table, column, count],
        )
        first, _last = cursor.fetchone()
    return int(first)


def now() -> dt.datetime:
    """The load's timestamp for created/updated columns."""
    return timezone.now()


# --- Secondary indexes and constraints, dropped for the load ----------------------------------


def _definitions(tables: Sequence[str]) -> tuple[list[tuple[str, str, str]], list[str]]:
    """(constraints as (table, name, definition), other index definitions) of the tables,
    primary keys and check constraints left out: they stay in place."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.conrelid::regclass::text, c.conname, pg_get_constraintdef(c.oid), c.contype "
            "FROM pg_constraint c WHERE c.conrelid = ANY(%s::regclass[]) "
            "AND c.contype IN ('u', 'f') ORDER BY c.contype DESC, c.conname",
            [list(tables)],
        )
        constraints = [(t, n, d) for t, n, d, _k in cursor.fetchall()]
        cursor.execute(
            "SELECT pg_get_indexdef(i.indexrelid) FROM pg_index i "
            "WHERE i.indrelid = ANY(%s::regclass[]) AND NOT i.indisprimary "
            "AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid "
            "AND c.contype IN ('u', 'p', 'x')) ORDER BY 1",
            [list(tables)],
        )
        indexes = [row[0] for row in cursor.fetchall()]
    return constraints, indexes


@contextmanager
def deferred_indexes(*model_list: type[models.Model]) -> Iterator[None]:
    """Drop the models' secondary indexes and their unique and foreign-key constraints, run the
    block, then re-create them all from their catalog definitions and ANALYZE the tables.

    Primary keys and check constraints stay (foreign keys of other tables point at the primary
    keys, so they stay valid). Call inside a transaction: a failure rolls the drop back."""
    tables = [m._meta.db_table for m in model_list]
    constraints, indexes = _definitions(tables)
    quote = connection.ops.quote_name
    foreign = [c for c in constraints if c[2].startswith("FOREIGN KEY")]
    unique = [c for c in constraints if not c[2].startswith("FOREIGN KEY")]
    with connection.cursor() as cursor:
        # Rows written earlier in the transaction (regions, clusters, rounds) have deferred
        # foreign-key checks queued; a table with queued checks cannot be altered.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        for table, name, _d in foreign + unique:
            cursor.execute(f"ALTER TABLE {table} DROP CONSTRAINT {quote(name)}")
        for definition in indexes:
            cursor.execute(f"DROP INDEX {_index_name(definition)}")
    count = len(constraints) + len(indexes)
    note(f"dropped {count} indexes and constraints of {', '.join(tables)}")
    yield
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL maintenance_work_mem = '512MB'")
        for table, name, definition in unique:
            cursor.execute(f"ALTER TABLE {table} ADD CONSTRAINT {quote(name)} {definition}")
        for definition in indexes:
            cursor.execute(definition)
        note(f"re-created unique constraints and indexes ({time.perf_counter() - started:.1f} s)")
        for table, name, definition in foreign:
            cursor.execute(f"ALTER TABLE {table} ADD CONSTRAINT {quote(name)} {definition}")
        cursor.execute("SET CONSTRAINTS ALL DEFERRED")
        note(f"re-created and checked foreign keys ({time.perf_counter() - started:.1f} s)")
        for table in tables:
            cursor.execute(f"ANALYZE {quote(table)}")
    note(
        f"{count} indexes and constraints back, tables analyzed ({time.perf_counter() - started:.1f} s)"
    )


def _index_name(definition: str) -> str:
    """The schema-qualified name of the index a CREATE INDEX statement makes."""
    name = definition.split(" INDEX ", 1)[1].split(" ON ", 1)[0]
    target = definition.split(" ON ", 1)[1].split()[0]
    if target == "ONLY":
        target = definition.split(" ON ONLY ", 1)[1].split()[0]
    schema = target.rsplit(".", 1)[0] if "." in target else "public"
    return f"{schema}.{name}"


def index_names(*model_list: type[models.Model]) -> set[str]:
    """Names of the models' secondary indexes and unique/foreign-key constraints (for checks)."""
    return index_names_of([m._meta.db_table for m in model_list])


# --- Loading several tables ------------------------------------------------------------------

Job = tuple[Table, Iterable[str], str]  # (table, its COPY lines, label for progress)


def load(jobs: Sequence[Job], *, workers: int = LOAD_WORKERS) -> dict[str, int]:
    """COPY each job's lines into its table, with the tables' secondary indexes and unique and
    foreign-key constraints dropped for the load and re-created after it; {label: rows}.

    Inside a transaction (the caller's atomic block, or a test's) everything happens on this
    connection, in it, and a failure rolls it all back. Outside one, the tables load side by
    side on `workers` connections of their own (each table in its own transaction, frozen when
    it was empty), then their indexes are built side by side; a failure re-creates whatever
    index or constraint is missing before it is raised, so the schema is never left short.
    """
    if connection.in_atomic_block or workers <= 1:
        counts = {}
        with deferred_indexes(*[table.model for table, _l, _n in jobs]):
            for table, lines, label in jobs:
                counts[label] = table.copy(lines, label=label)
        return counts
    return _load_side_by_side(jobs, workers)


def _in_own_connection(work: Callable[[], Any]) -> Any:
    """Run `work` in a transaction on this thread's own connection, then close it."""
    try:
        with transaction.atomic():
            return work()
    finally:
        connection.close()


def _copy_alone(table: Table, lines: Iterable[str], label: str) -> int:
    """COPY into a table in this transaction; frozen when the table is empty and nothing else
    points at it (then TRUNCATE, a no-op on its rows, allows COPY FREEZE)."""
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT NOT EXISTS (SELECT 1 FROM {quote(table.name)})")
        empty = cursor.fetchone()[0]
        cursor.execute(
            "SELECT EXISTS (SELECT 1 FROM pg_constraint WHERE confrelid = %s::regclass)",
            [table.name],
        )
        referenced = cursor.fetchone()[0]
        freeze = empty and not referenced
        if freeze:
            cursor.execute(f"TRUNCATE {quote(table.name)}")
    return table.copy(lines, label=label, freeze=freeze)


def _vacuum(table: str) -> None:
    """VACUUM (ANALYZE) a table, on this thread's own connection (outside any transaction)."""
    try:
        with connection.cursor() as cursor:
            cursor.execute(f"VACUUM (ANALYZE) {connection.ops.quote_name(table)}")
    finally:
        connection.close()


def _run_all(statements: Sequence[str]) -> None:
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL maintenance_work_mem = '512MB'")
        for sql in statements:
            cursor.execute(sql)


def _load_side_by_side(jobs: Sequence[Job], workers: int) -> dict[str, int]:
    tables = [table.name for table, _l, _n in jobs]
    constraints, indexes = _definitions(tables)
    quote = connection.ops.quote_name
    foreign = [c for c in constraints if c[2].startswith("FOREIGN KEY")]
    unique = [c for c in constraints if not c[2].startswith("FOREIGN KEY")]
    with transaction.atomic(), connection.cursor() as cursor:
        for table, name, _d in foreign + unique:
            cursor.execute(f"ALTER TABLE {table} DROP CONSTRAINT {quote(name)}")
        for definition in indexes:
            cursor.execute(f"DROP INDEX {_index_name(definition)}")
    note(
        f"dropped {len(constraints) + len(indexes)} indexes and constraints of {', '.join(tables)}"
    )
    try:
        with ThreadPoolExecutor(workers) as pool:
            futures = [
                (label, pool.submit(_in_own_connection, partial(_copy_alone, table, lines, label)))
                for table, lines, label in jobs
            ]
            counts = {label: future.result() for label, future in futures}
        started = time.perf_counter()
        # One job per table (an index build and a constraint on one table would wait for each
        # other); the big tables build side by side.
        per_table: dict[str, list[str]] = {}
        for table, name, definition in unique:
            per_table.setdefault(table.strip('"'), []).append(
                f"ALTER TABLE {table} ADD CONSTRAINT {quote(name)} {definition}"
            )
        for definition in indexes:
            table = definition.split(" ON ", 1)[1].split()[0].split(".")[-1].strip('"')
            per_table.setdefault(table, []).append(definition)
        with ThreadPoolExecutor(workers) as pool:
            order = sorted(per_table.items(), key=lambda kv: -len(kv[1]))
            for future in [
                pool.submit(_in_own_connection, partial(_run_all, statements))
                for _t, statements in order
            ]:
                future.result()
        note(f"re-created unique constraints and indexes ({time.perf_counter() - started:.1f} s)")
        # A foreign key locks both of its tables against other foreign keys: one at a time.
        _in_own_connection(
            partial(
                _run_all,
                [f"ALTER TABLE {t} ADD CONSTRAINT {quote(n)} {d}" for t, n, d in foreign],
            )
        )
        note(f"re-created and checked foreign keys ({time.perf_counter() - started:.1f} s)")
        # VACUUM, not only ANALYZE: it sets the visibility map, so that the overview pages'
        # counts can be answered from the indexes alone (index-only scans) from the start.
        with ThreadPoolExecutor(workers) as pool:
            for future in [pool.submit(_vacuum, t) for t in tables]:
                future.result()
        note(f"tables vacuumed and analyzed ({time.perf_counter() - started:.1f} s)")
    except BaseException:
        _restore_missing(tables, constraints, indexes)
        raise
    return counts


def _restore_missing(
    tables: Sequence[str], constraints: list[tuple[str, str, str]], indexes: list[str]
) -> None:
    """After a failed load: re-create every index and constraint that is not there (the
    loaded rows stay; a constraint they break is reported, not hidden)."""
    present = index_names_of(tables)
    quote = connection.ops.quote_name
    statements = [
        f"ALTER TABLE {t} ADD CONSTRAINT {quote(n)} {d}"
        for t, n, d in constraints
        if not d.startswith("FOREIGN KEY") and n not in present
    ]
    statements += [d for d in indexes if _index_name(d) not in present]
    statements += [
        f"ALTER TABLE {t} ADD CONSTRAINT {quote(n)} {d}"
        for t, n, d in constraints
        if d.startswith("FOREIGN KEY") and n not in present
    ]
    for sql in statements:
        try:
            _in_own_connection(partial(_run_all, [sql]))
        except Exception as exc:  # noqa: BLE001 - the load's own error is the one raised
            note(f"could not restore: {sql} ({exc})")


def index_names_of(tables: Sequence[str]) -> set[str]:
    """Names of the tables' secondary indexes (schema-qualified) and unique/foreign-key
    constraints."""
    constraints, indexes = _definitions(tables)
    return {n for _t, n, _d in constraints} | {_index_name(d) for d in indexes}
