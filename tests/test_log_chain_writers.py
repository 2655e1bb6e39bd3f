"""Several writers of one SQLite log keep one verifiable chain, while each remembers its own tail (issue 16).

A writer (a `Store`) keeps the tail it left of the decisions' chain and reads it again only when
another writer wrote since (the stamp in the lock file says so). Here two stores on one file, and a
second process, append in turn, also around a purge and an assessment; `bip log verify` must find
nothing, and every entry must link to the one before it. A writer that appends twice in a row reads
no tail the second time.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import subprocess
import sys
import textwrap

import sqlalchemy as sa

from bip_engine import Checker, clock
from bip_engine.log.assessments import append_assessment
from bip_engine.log.hashing import GENESIS
from bip_engine.log.maintenance import verify_log
from bip_engine.log.retention import purge
from bip_engine.log.schema import decisions
from bip_engine.log.store import Store
from bip_engine.log.tokens import Principal
from tests.conftest import ROOT
from tests.test_store import logged


def _links(url: str) -> list[tuple[int, str, str]]:
    store = Store.open(url)
    try:
        with store.read() as conn:
            query = sa.select(decisions.c.seq, decisions.c.prev_hash, decisions.c.entry_hash).order_by(decisions.c.seq)
            return [tuple(row) for row in conn.execute(query)]
    finally:
        store.close()


def _assert_one_chain(rows: list[tuple[int, str, str]], first_prev: str = GENESIS) -> None:
    """Each entry links to the one before it, and the seq counts on without a gap."""
    previous = first_prev
    for (seq, prev, hashed), expected_seq in zip(rows, range(rows[0][0], rows[0][0] + len(rows)), strict=True):
        assert seq == expected_seq
        assert prev == previous, f"entry {seq} links to {prev[:12]}, not to the entry before it ({previous[:12]})"
        previous = hashed


def _append_in_another_process(url: str, count: int) -> None:
    script = textwrap.dedent(
        f"""
        import sys
        sys.path.insert(0, {str(ROOT)!r})
        from bip_engine import Checker
        from bip_engine.log.store import Store
        from tests.test_store import logged
        store = Store.open({url!r})
        checker = Checker({str(ROOT / "rules")!r}, engine="python")
        for n in range({count}):
            logged(store, checker, purpose=f"other process {{n}}")
        store.close()
        """
    )
    subprocess.run([sys.executable, "-c", script], check=True, timeout=120)


def test_two_writers_and_another_process_appending_in_turn_keep_one_chain(tmp_path):
    url = f"sqlite:///{tmp_path / 'log.sqlite'}"
    checker = Checker(ROOT / "rules", engine="python")
    first, second = Store.open(url), Store.open(url)
    try:
        for turn in range(4):
            logged(first, checker, purpose=f"first {turn}")
            logged(first, checker, purpose=f"first again {turn}")  # first's own tail, remembered
            logged(second, checker, purpose=f"second {turn}")  # second must see first's entries
            if turn == 1:
                _append_in_another_process(url, 2)  # neither store has seen these
        assert verify_log(first) == []
    finally:
        first.close()
        second.close()
    rows = _links(url)
    assert len(rows) == 4 * 3 + 2
    _assert_one_chain(rows)


def test_a_writer_reads_its_tail_again_after_a_purge_or_an_assessment_by_another_writer(tmp_path):
    url = f"sqlite:///{tmp_path / 'log.sqlite'}"
    checker = Checker(ROOT / "rules", engine="python")
    writer, other = Store.open(url), Store.open(url)
    try:
        entries = [logged(writer, checker, purpose=f"samtale {n}") for n in range(3)]
        append_assessment(other, entries[0].decision_id, Principal("anna", "caseworker"), True, None, "enig", {})
        logged(writer, checker)
        tomorrow = clock.today() + dt.timedelta(days=1)
        done = purge(other, tomorrow, "ops", force=True)  # every entry so far goes; the chain starts at its anchor
        assert done.decisions == 4
        logged(writer, checker)
        logged(writer, checker)
        assert verify_log(writer) == []
    finally:
        writer.close()
        other.close()
    rows = _links(url)
    assert [seq for seq, _, _ in rows] == [5, 6]  # numbers are not used again after a purge
    _assert_one_chain(rows, first_prev=rows[0][1])


def test_a_writer_that_appends_twice_reads_no_tail_the_second_time(tmp_path):
    url = f"sqlite:///{tmp_path / 'log.sqlite'}"
    checker = Checker(ROOT / "rules", engine="python")
    store = Store.open(url)
    statements: list[str] = []
    sa.event.listen(store.engine, "before_cursor_execute", lambda *args: statements.append(args[2]))
    try:
        logged(store, checker, purpose="first")
        first_reads = [text for text in statements if "FROM decisions" in text and "SELECT" in text]
        statements.clear()
        logged(store, checker, purpose="second")
        second_reads = [text for text in statements if "FROM decisions" in text and "SELECT" in text]
    finally:
        store.close()
    assert first_reads, "the first append reads the tail"
    assert second_reads == []
    _assert_one_chain(_links(url))


def test_the_prepared_insert_stores_what_sqlalchemys_insert_stores(tmp_path):
    """A SQLite append goes to the driver as a statement made once; every stored value (and its type) is SQLAlchemy's."""
    from bip_engine.log import chain
    from bip_engine.log.decisions import decision_entry, decision_values
    from tests.test_store import ANNA, checked

    checker = Checker(ROOT / "rules", engine="python")
    parsed, report = checked(checker)
    keys = Store.open(f"sqlite:///{tmp_path / 'keys.sqlite'}")
    template = decision_values(dataclasses.replace(decision_entry(report, parsed, ANNA, "møde", keys), margins=True))
    keys.close()
    rows = [dict(template, decision_id=f"d{n}", seq=n, prev_hash=GENESIS, entry_hash=f"{n:064x}") for n in (1, 2, 3)]
    stored = {}
    for name, insert in (
        ("prepared", chain._insert),
        ("sqlalchemy", lambda conn, table, values: conn.execute(table.insert(), values)),
    ):
        store = Store.open(f"sqlite:///{tmp_path / name}.sqlite")
        with store.write() as conn:
            insert(conn, decisions, rows)
        with store.read() as conn:
            stored[name] = [
                tuple((value, type(value).__name__) for value in row)
                for row in conn.exec_driver_sql("SELECT *, typeof(time), typeof(margins) FROM decisions ORDER BY seq")
            ]
        store.close()
    assert len(stored["prepared"]) == 3
    assert stored["prepared"] == stored["sqlalchemy"]
