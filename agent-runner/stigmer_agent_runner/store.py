"""Durable store of executions and their events (SQLite under STIGMER_DATA).

An execution is written before the API answers 202; every event gets the next sequence number of
its execution, which is also its SSE `id:`.
"""
from __future__ import annotations

import errno
import json
import os
import sqlite3
import threading
import time
from dataclasses import dataclass
from typing import Any, Dict, List, Optional, Tuple

QUEUED = "queued"
RUNNING = "running"
SUCCEEDED = "succeeded"
FAILED = "failed"
CANCELLED = "cancelled"
INTERRUPTED = "interrupted"
TERMINAL = frozenset({SUCCEEDED, FAILED, CANCELLED, INTERRUPTED})

SCHEMA = """
CREATE TABLE IF NOT EXISTS executions (
    n INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    agent TEXT NOT NULL,
    input TEXT NOT NULL,
    files TEXT NOT NULL,
    status TEXT NOT NULL,
    result TEXT,
    error TEXT,
    created_at TEXT NOT NULL,
    started_at TEXT,
    finished_at TEXT
);
CREATE TABLE IF NOT EXISTS events (
    execution_id TEXT NOT NULL,
    seq INTEGER NOT NULL,
    type TEXT NOT NULL,
    data TEXT NOT NULL,
    PRIMARY KEY (execution_id, seq)
);
"""


def now() -> str:
    t = time.time()
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t)) + f".{int(t % 1 * 1000):03d}Z"


@dataclass(frozen=True)
class Execution:
    id: str
    agent: Dict[str, Any]
    input: str
    files: List[str]
    status: str
    result: Optional[str]
    error: Optional[str]
    created_at: str
    started_at: Optional[str]
    finished_at: Optional[str]

    def to_json(self) -> Dict[str, Any]:
        return {
            "id": self.id,
            "status": self.status,
            "agent": self.agent,
            "input": self.input,
            "files": self.files,
            "result": self.result,
            "error": self.error,
            "created_at": self.created_at,
            "started_at": self.started_at,
            "finished_at": self.finished_at,
        }


@dataclass(frozen=True)
class Event:
    seq: int
    type: str
    data: Dict[str, Any]


class StoreUnavailable(Exception):
    """The store cannot be opened: the message names the file system and its free space when it is full."""


def _size(n: int) -> str:
    value = float(n)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{value:.0f} {unit}" if unit == "B" or value >= 10 else f"{value:.1f} {unit}"
        value /= 1024
    return f"{n} B"


def describe_storage_failure(error: BaseException, directory: str) -> str:
    """One sentence for a failure to write under `directory`: a full or read-only file system says so."""
    try:
        stat = os.statvfs(directory)
        room = f" ({_size(stat.f_bavail * stat.f_frsize)} free of {_size(stat.f_blocks * stat.f_frsize)})"
    except OSError:
        room = ""
    text = str(error)
    code = error.errno if isinstance(error, OSError) else None
    if code in (errno.ENOSPC, errno.EDQUOT) or "disk is full" in text or "disk I/O error" in text and room.startswith(" (0 B"):
        return f"no space left on the file system of {directory}{room}"
    if code == errno.EROFS or "readonly database" in text:
        return f"the file system of {directory} is read-only"
    return f"{text} ({directory}{room})"


class Store:
    def __init__(self, data_dir: str) -> None:
        self.path = os.path.join(data_dir, "agent-runner.sqlite3")
        self._lock = threading.Lock()
        db: Optional[sqlite3.Connection] = None
        try:
            os.makedirs(data_dir, exist_ok=True)
            db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
            db.execute("PRAGMA busy_timeout=5000")
            db.executescript(SCHEMA)
        except (sqlite3.Error, OSError) as error:
            if db is not None:
                db.close()
            raise StoreUnavailable(f"cannot open the store {self.path}: {describe_storage_failure(error, data_dir)}") from None
        self._db = db

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def ping(self) -> None:
        with self._lock:
            self._db.execute("SELECT 1").fetchone()

    @staticmethod
    def _execution(row: Tuple[Any, ...]) -> Execution:
        return Execution(
            id=row[0], agent=json.loads(row[1]), input=row[2], files=json.loads(row[3]), status=row[4],
            result=row[5], error=row[6], created_at=row[7], started_at=row[8], finished_at=row[9],
        )

    _COLUMNS = "id, agent, input, files, status, result, error, created_at, started_at, finished_at"

    def create(self, execution_id: str, agent: Dict[str, Any], input_text: str, files: List[str]) -> Execution:
        created = now()
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                self._db.execute(
                    "INSERT INTO executions (id, agent, input, files, status, created_at) VALUES (?, ?, ?, ?, ?, ?)",
                    (execution_id, json.dumps(agent), input_text, json.dumps(files), QUEUED, created),
                )
                self._insert_event(execution_id, "status", {"status": QUEUED, "time": created})
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
        found = self.get(execution_id)
        assert found is not None
        return found

    def get(self, execution_id: str) -> Optional[Execution]:
        with self._lock:
            row = self._db.execute(f"SELECT {self._COLUMNS} FROM executions WHERE id = ?", (execution_id,)).fetchone()
        return self._execution(row) if row else None

    def list(self, limit: int = 100) -> List[Execution]:
        with self._lock:
            rows = self._db.execute(f"SELECT {self._COLUMNS} FROM executions ORDER BY n DESC LIMIT ?", (limit,)).fetchall()
        return [self._execution(row) for row in rows]

    def ids_with_status(self, status: str) -> List[str]:
        with self._lock:
            rows = self._db.execute("SELECT id FROM executions WHERE status = ? ORDER BY n", (status,)).fetchall()
        return [row[0] for row in rows]

    def _insert_event(self, execution_id: str, type_: str, data: Dict[str, Any]) -> int:
        row = self._db.execute("SELECT COALESCE(MAX(seq), 0) + 1 FROM events WHERE execution_id = ?", (execution_id,)).fetchone()
        seq = int(row[0])
        self._db.execute(
            "INSERT INTO events (execution_id, seq, type, data) VALUES (?, ?, ?, ?)",
            (execution_id, seq, type_, json.dumps(data)),
        )
        return seq

    def append_event(self, execution_id: str, type_: str, data: Dict[str, Any]) -> int:
        payload = dict(data)
        payload.setdefault("time", now())
        with self._lock:
            return self._insert_event(execution_id, type_, payload)

    def events_after(self, execution_id: str, after: int = 0, limit: int = 1000) -> List[Event]:
        with self._lock:
            rows = self._db.execute(
                "SELECT seq, type, data FROM events WHERE execution_id = ? AND seq > ? ORDER BY seq LIMIT ?",
                (execution_id, after, limit),
            ).fetchall()
        return [Event(seq=row[0], type=row[1], data=json.loads(row[2])) for row in rows]

    def transition(
        self,
        execution_id: str,
        status: str,
        *,
        expect: Optional[Tuple[str, ...]] = None,
        result: Optional[str] = None,
        error: Optional[str] = None,
    ) -> bool:
        """Moves an execution to `status` and records the status event in one transaction.

        With `expect`, only an execution currently in one of those states moves; returns whether it did.
        """
        stamp = now()
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                row = self._db.execute("SELECT status FROM executions WHERE id = ?", (execution_id,)).fetchone()
                if row is None or (expect is not None and row[0] not in expect):
                    self._db.execute("ROLLBACK")
                    return False
                if status == RUNNING:
                    self._db.execute("UPDATE executions SET status = ?, started_at = ? WHERE id = ?", (status, stamp, execution_id))
                else:
                    self._db.execute(
                        "UPDATE executions SET status = ?, result = ?, error = ?, finished_at = ? WHERE id = ?",
                        (status, result, error, stamp if status in TERMINAL else None, execution_id),
                    )
                data: Dict[str, Any] = {"status": status, "time": stamp}
                if result is not None:
                    data["result"] = result
                if error is not None:
                    data["error"] = error
                self._insert_event(execution_id, "status", data)
                self._db.execute("COMMIT")
                return True
            except BaseException:
                self._db.execute("ROLLBACK")
                raise

    # -- the all-executions change feed (feed.py) ------------------------------------------------
    # Every change of an execution writes a row of `events` (status, model turn, tool call, result)
    # in the same transaction as the change, under the store's lock. SQLite gives each row a rowid one
    # above the largest so far (nothing is ever deleted), so the rowid is one sequence across all
    # executions in commit order: the feed's SSE id, and a resume after it is exact.

    def last_change(self) -> int:
        """The sequence number of the newest change (0 when there is none)."""
        with self._lock:
            return int(self._db.execute("SELECT COALESCE(MAX(rowid), 0) FROM events").fetchone()[0])

    def changes_after(self, after: int, limit: int = 500) -> List[Tuple[int, str]]:
        """(sequence number, execution id) of the changes after `after`, oldest first."""
        with self._lock:
            rows = self._db.execute(
                "SELECT rowid, execution_id FROM events WHERE rowid > ? ORDER BY rowid LIMIT ?", (after, limit),
            ).fetchall()
        return [(int(row[0]), row[1]) for row in rows]

    def progress(self, execution_id: str) -> Tuple[int, Optional[str]]:
        """(steps so far, the tool being called or None) from the execution's latest step event."""
        with self._lock:
            row = self._db.execute(
                "SELECT type, data FROM events WHERE execution_id = ? AND type IN ('model_turn', 'tool_call', 'tool_result')"
                " ORDER BY seq DESC LIMIT 1",
                (execution_id,),
            ).fetchone()
        if row is None:
            return 0, None
        data = json.loads(row[1])
        step = data.get("step")
        return (step if isinstance(step, int) else 0), (data.get("name") if row[0] == "tool_call" else None)
