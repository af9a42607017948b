"""Organisations and their department trees."""

from __future__ import annotations

import sqlalchemy as sa

from ..extensions import db
from ..inputs import describe_control_character, largest_integer_id
from ..models import SIZE_BANDS, Campaign, Department, Organisation
from . import ServiceError
from .csvfiles import CSVFileError, RowError, read_csv

NAME_MAX = 200  # Organisation.name and Department.name
SECTOR_MAX = 80


def create_organisation(name: str, sector: str, size_band: str) -> Organisation:
    """Add an organisation; names are unique."""
    name, sector = name.strip(), sector.strip()
    if not name:
        raise ServiceError("An organisation needs a name.")
    if not sector:
        raise ServiceError("An organisation needs a sector (for example 'government').")
    for label, value, longest in (("name", name, NAME_MAX), ("sector", sector, SECTOR_MAX)):
        if len(value) > longest:
            raise ServiceError(f"The organisation's {label} is longer than {longest} characters.")
        problem = describe_control_character(value)
        if problem:
            raise ServiceError(f"The organisation's {label} {problem}; remove it.")
    if size_band not in SIZE_BANDS:
        raise ServiceError(
            f"Size band {size_band!r} is not known; use one of: {', '.join(SIZE_BANDS)}."
        )
    if db.session.scalar(sa.select(Organisation.id).filter_by(name=name)) is not None:
        raise ServiceError(f"An organisation called {name!r} already exists.")
    organisation = Organisation(name=name, sector=sector.lower(), size_band=size_band)
    db.session.add(organisation)
    db.session.flush()
    return organisation


def find_organisation(reference: str | int) -> Organisation:
    """Look an organisation up by id or exact name."""
    org = None
    number = reference if isinstance(reference, int) else None
    if isinstance(reference, str) and reference.isascii() and reference.isdigit():
        number = int(reference)
    if number is not None and 0 < number <= largest_integer_id(db.engine.dialect.name):
        org = db.session.get(Organisation, number)
    if org is None:
        org = db.session.scalar(sa.select(Organisation).filter_by(name=str(reference)))
    if org is None:
        raise ServiceError(f"No organisation with id or name {reference!r}.")
    return org


DEPARTMENT_COLUMNS = ("code", "name", "parent_code", "headcount")
# People directly in one department; far beyond any real one, well within the column.
HEADCOUNT_MAX = 10_000_000


def import_departments(organisation: Organisation, data: bytes | str, name: str) -> int:
    """Create or update departments from CSV (code, name, parent_code, headcount).

    Existing departments are matched on code and updated; the whole file is validated
    first and rejected with every problem listed if anything is wrong. Refused while a
    campaign of the organisation is open: its staff answer about the tree it froze.
    """
    running = db.session.scalar(
        sa.select(Campaign)
        .where(Campaign.organisation_id == organisation.id, Campaign.status == "open")
        .order_by(Campaign.id)
        .limit(1)
    )
    if running is not None:
        raise ServiceError(
            f"Campaign {running.id} ({running.name}) of {organisation.name} is open, so its "
            "departments are frozen; import them again after it closes. (A draft campaign "
            "takes the departments as they are when it opens.)"
        )
    rows = read_csv(data, name, required=("code", "name"))
    errors: list[RowError] = []
    existing = {d.code: d for d in organisation.departments}
    parents: dict[str, str | None] = {code: None for code in existing}
    for dep in existing.values():
        parents[dep.code] = dep.parent.code if dep.parent else None
    seen: dict[str, int] = {}
    parsed: list[tuple[str, str, str | None, int | None]] = []
    for row in rows:
        number = int(row["__row__"])
        unknown = set(row) - {"__row__", *DEPARTMENT_COLUMNS}
        if unknown and number == 2:
            for column in sorted(unknown):
                errors.append(
                    RowError(1, column, f"unknown column; expected {', '.join(DEPARTMENT_COLUMNS)}")
                )
        code, dep_name = row["code"], row["name"]
        parent = row.get("parent_code") or None
        if not code:
            errors.append(RowError(number, "code", "empty; every department needs a code"))
            continue
        if len(code) > 40:
            errors.append(RowError(number, "code", "longer than 40 characters"))
        if code in seen:
            errors.append(RowError(number, "code", f"{code!r} already used on row {seen[code]}"))
        seen[code] = number
        if not dep_name:
            errors.append(RowError(number, "name", "empty; every department needs a name"))
        elif len(dep_name) > NAME_MAX:
            errors.append(RowError(number, "name", f"longer than {NAME_MAX} characters"))
        headcount: int | None = None
        raw = row.get("headcount", "")
        if raw:
            try:
                headcount = int(raw) if raw.isascii() and len(raw) <= 12 else -1
                if not 0 <= headcount <= HEADCOUNT_MAX:
                    raise ValueError
            except ValueError:
                errors.append(
                    RowError(
                        number,
                        "headcount",
                        f"{raw[:40]!r} is not a whole number from 0 to {HEADCOUNT_MAX:,}",
                    )
                )
        if parent == code:
            errors.append(RowError(number, "parent_code", "a department cannot be its own parent"))
        parsed.append((code, dep_name, parent, headcount))
        parents[code] = parent
    for code, _, parent, _ in parsed:
        if parent is not None and parent not in parents:
            errors.append(
                RowError(seen[code], "parent_code", f"{parent!r} is neither in this file nor known")
            )
    for code in seen:
        chain, node = {code}, parents.get(code)
        while node is not None and node in parents:
            if node in chain:
                errors.append(RowError(seen[code], "parent_code", "the parents form a cycle"))
                break
            chain.add(node)
            node = parents[node]
    if errors:
        raise CSVFileError(name, errors)
    by_code = dict(existing)
    for code, dep_name, _, headcount in parsed:
        dep = by_code.get(code)
        if dep is None:
            dep = Department(organisation=organisation, code=code, name=dep_name)
            db.session.add(dep)
            by_code[code] = dep
        dep.name, dep.headcount = dep_name, headcount
    db.session.flush()
    for code, _, parent, _ in parsed:
        by_code[code].parent_id = by_code[parent].id if parent else None
    db.session.flush()
    return len(parsed)
