"""Checking the audit log: walk the chain against its anchors, take an anchor, and the
`flask audit` commands that do both."""

import json
import os
import socket
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import NamedTuple

import click
from flask.cli import AppGroup
from sqlalchemy import select

from .audit import (
    GENESIS,
    MARKER,
    RESTORED,
    Anchor,
    AuditEntry,
    AuditHead,
    audit_key,
    current_anchor,
    entry_hash,
)
from .extensions import db
from .timeutil import utcnow


def read_anchors(lines: Iterable[str]) -> list[Anchor]:
    """Anchors from a file: one `COUNT:HASH` per line, anything after it (a date) ignored,
    blank lines and `#` comments skipped."""
    anchors = []
    for number, line in enumerate(lines, 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        try:
            anchors.append(Anchor.parse(line.split()[0]))
        except ValueError as exc:
            raise ValueError(f"line {number}: {exc}") from None
    return anchors


@dataclass(frozen=True)
class ChainProblem:
    seq: int
    reason: str


class ChainCheck(NamedTuple):
    count: int
    problem: ChainProblem | None
    # Explained differences from anchors (a restore to an earlier point).
    notes: tuple[str, ...] = ()


def verify_chain(anchors: Sequence[Anchor] = ()) -> ChainCheck:
    """Walk the log in order, each entry by its own rule (unkeyed SHA-256 before the
    marker, HMAC from it on), then hold it against the anchors; the first problem found."""
    key = audit_key()
    wanted = {anchor.count for anchor in anchors}
    hashes: dict[int, str] = {}
    restores: list[int] = []  # the entry counts restored to, in order
    prev, keyed, count = GENESIS, False, 0
    rows = db.session.execute(select(AuditEntry).order_by(AuditEntry.seq)).scalars()
    for entry in rows.yield_per(2000):
        if entry.seq != count + 1:
            return ChainCheck(count, ChainProblem(count + 1, "entry missing (sequence gap)"))
        if entry.prev_hash != prev:
            reason = "does not chain to the previous entry"
            return ChainCheck(count, ChainProblem(entry.seq, reason))
        keyed = keyed or entry.action == MARKER
        if entry_hash(entry.payload(), key if keyed else None) != entry.hash:
            reason = "content changed after it was written"
            if keyed:
                reason += " (or VEHICLEWATCH_AUDIT_KEY is not the key it was written with)"
            return ChainCheck(count, ChainProblem(entry.seq, reason))
        if keyed and entry.action == RESTORED:
            restores.append(json.loads(entry.after)["entry_count"])
        if entry.seq in wanted:
            hashes[entry.seq] = entry.hash
        prev = entry.hash
        count += 1
    if count and not keyed:
        reason = "no keyed entry: the log was rewritten without VEHICLEWATCH_AUDIT_KEY"
        return ChainCheck(count, ChainProblem(count, reason))
    head = db.session.get(AuditHead, 1)
    if head is not None and (head.seq != count or head.last_hash != prev):
        return ChainCheck(count, ChainProblem(count + 1, "entries removed from the end of the log"))
    notes = []
    for anchor in sorted(set(anchors), key=lambda a: a.count):
        if hashes.get(anchor.count) == anchor.hash:
            continue
        earlier = [n for n in restores if n < anchor.count]
        if earlier:
            notes.append(f"restored to entry {earlier[-1]}; anchor {anchor.count} is later")
        elif anchor.count > count:
            reason = f"the log ends at entry {count} but anchor {anchor} is later: entries cut off"
            return ChainCheck(count, ChainProblem(count + 1, reason), tuple(notes))
        else:
            reason = f"differs from anchor {anchor}: the log was rewritten up to here"
            return ChainCheck(count, ChainProblem(anchor.count, reason), tuple(notes))
    return ChainCheck(count, None, tuple(notes))


def append_anchor(path: str, anchor: Anchor) -> None:
    """Add the anchor to a file, with the time it was taken, and make it durable."""
    with open(path, "a", encoding="utf-8") as out:
        out.write(f"{anchor} {utcnow().isoformat(timespec='seconds')}\n")
        out.flush()
        os.fsync(out.fileno())


# Facility auth (4), severity notice (5).
SYSLOG_PRIORITY = 4 * 8 + 5


def send_to_syslog(address: str, anchor: Anchor) -> None:
    """One syslog datagram (UDP, RFC 3164) to HOST[:PORT], port 514 by default."""
    host, colon, port = address.rpartition(":")
    if not colon:
        host, port = address, "514"
    if not host or not port.isdigit():
        raise ValueError(f"not a syslog address (HOST[:PORT]): {address!r}")
    family, kind, proto, _, target = socket.getaddrinfo(host, int(port), type=socket.SOCK_DGRAM)[0]
    with socket.socket(family, kind, proto) as sock:
        sock.sendto(f"<{SYSLOG_PRIORITY}>vehiclewatch: audit anchor {anchor}".encode(), target)


audit_cli = AppGroup("audit", help="Inspect the audit log and anchor it.")


class AnchorType(click.ParamType):
    name = "COUNT:HASH"

    def convert(self, value, param, ctx):
        if isinstance(value, Anchor):
            return value
        try:
            return Anchor.parse(value)
        except ValueError as exc:
            self.fail(str(exc), param, ctx)


@audit_cli.command("verify")
@click.option(
    "--anchor", "anchors", multiple=True, type=AnchorType(), help="an anchor kept elsewhere"
)
@click.option(
    "--anchors",
    "anchor_file",
    type=click.File(encoding="utf-8"),
    help="a file of anchors, one COUNT:HASH a line",
)
def verify_command(anchors: tuple[Anchor, ...], anchor_file) -> None:
    """Check that no audit entry was changed or removed, and that the log still holds
    every anchor."""
    anchors_to_check = list(anchors)
    if anchor_file is not None:
        try:
            anchors_to_check += read_anchors(anchor_file)
        except ValueError as exc:
            raise click.BadParameter(str(exc), param_hint="--anchors") from None
    count, problem, notes = verify_chain(anchors_to_check)
    for note in notes:
        click.echo(note)
    if problem:
        click.echo(f"audit log BROKEN at entry {problem.seq}: {problem.reason}", err=True)
        raise SystemExit(1)
    checked = f"; {len(set(anchors_to_check))} anchors checked" if anchors_to_check else ""
    click.echo(f"audit log intact: {count} entries{checked}")


@audit_cli.command("anchor")
@click.option(
    "--append", "append_to", type=click.Path(dir_okay=False), help="also append it to FILE"
)
@click.option("--syslog", "syslog_to", metavar="HOST[:PORT]", help="also send it to a syslog host")
def anchor_command(append_to: str | None, syslog_to: str | None) -> None:
    """Print the entry count and head hash (COUNT:HASH) to keep away from this host."""
    anchor = current_anchor()
    if anchor is None:
        raise click.ClickException("the audit log is empty: nothing to anchor yet")
    click.echo(str(anchor))
    if append_to:
        append_anchor(append_to, anchor)
    if syslog_to:
        try:
            send_to_syslog(syslog_to, anchor)
        except (ValueError, OSError) as exc:
            raise click.ClickException(f"syslog: {exc}") from None
