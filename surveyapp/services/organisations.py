"""Organisations and their department trees."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

import sqlalchemy as sa
from flask_babel import LazyString
from flask_babel import lazy_gettext as _l

from ..extensions import db
from ..inputs import describe_control_character, largest_integer_id
from ..models import SIZE_BANDS, Campaign, Department, Organisation
from . import ServiceError
from .csvfiles import CSVFileError, RowError, read_csv

NAME_MAX = 200  # Organisation.name and Department.name
SECTOR_MAX = 80

# The sectors an organisation may belong to. Each sector is a norm group, so the list is
# closed: a typo ("goverment") would otherwise start a group of its own. The labels are
# lazy, translated when shown, in the reader's language.
SECTORS: dict[str, LazyString] = {
    "government": _l("Government"),
    "healthcare": _l("Healthcare"),
    "education": _l("Education"),
    "finance": _l("Finance"),
    "retail": _l("Retail"),
    "industry": _l("Industry"),
    "non_profit": _l("Non-profit"),
    "other": _l("Other"),
}


def sector_label(sector: str) -> str:
    """The sector's name in the current language (its key if it is not in the list)."""
    label = SECTORS.get(sector)
    return str(label) if label is not None else sector


# How the consultants' organisation list can be ordered: by name (A to Z), by the latest
# campaign (newest first), or by the responses of the latest closed campaign (most first).
ORGANISATION_SORTS = ("name", "latest", "responses")
SEARCH_MAX = 200


def _folded(text: str) -> str:
    """Text compared without case or accents: "Zoë" finds "zoe"."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


@dataclass(frozen=True)
class OrganisationCriteria:
    """What the organisation list shows: a name search, a sector, a size band, an order."""

    search: str = ""
    sector: str | None = None
    size_band: str | None = None
    sort: str = "name"


def _latest_opening(row: dict) -> str:
    return max((c["opens_on"] for c in row["campaigns"]), default="")


def _latest_closed_responses(row: dict) -> int:
    """Responses of the latest closed campaign as the list shows them (-1: none shown)."""
    closed = [c for c in row["campaigns"] if c["status"] == "closed"]
    if not closed:
        return -1
    latest = max(closed, key=lambda c: (c["closes_on"], c["id"]))
    return -1 if latest["responses"] is None else latest["responses"]


def select_organisations(rows: list[dict], criteria: OrganisationCriteria) -> list[dict]:
    """The rows of ``comparison.organisation_overview`` that match, in the chosen order.

    Sorting uses only what the list shows: a campaign's response count under its
    threshold is not shown, so it sorts as if it had none.
    """
    needle = _folded(criteria.search.strip())
    chosen = [
        row
        for row in rows
        if (not needle or needle in _folded(row["name"]))
        and (criteria.sector is None or row["sector"] == criteria.sector)
        and (criteria.size_band is None or row["size_band"] == criteria.size_band)
    ]
    chosen.sort(key=lambda row: (_folded(row["name"]), row["id"]))
    if criteria.sort == "latest":
        chosen.sort(key=_latest_opening, reverse=True)  # stable: ties stay by name
    elif criteria.sort == "responses":
        chosen.sort(key=_latest_closed_responses, reverse=True)
    return chosen


def _checked_fields(name: str, sector: str, size_band: str) -> tuple[str, str]:
    """The organisation's name and sector, tidied, or a ServiceError saying what is wrong."""
    name, sector = name.strip(), sector.strip().lower()
    if not name:
        raise ServiceError("An organisation needs a name.")
    if len(name) > NAME_MAX:
        raise ServiceError(f"The organisation's name is longer than {NAME_MAX} characters.")
    problem = describe_control_character(name)
    if problem:
        raise ServiceError(f"The organisation's name {problem}; remove it.")
    if sector not in SECTORS:
        raise ServiceError(
            f"Sector {sector[:SECTOR_MAX]!r} is not known; use one of: {', '.join(SECTORS)}."
        )
    if size_band not in SIZE_BANDS:
        raise ServiceError(
            f"Size band {size_band!r} is not known; use one of: {', '.join(SIZE_BANDS)}."
        )
    return name, sector


def organisation_name_taken(name: str, *, other_than: Organisation | None = None) -> bool:
    """Whether another organisation already has this name."""
    query = sa.select(Organisation.id).filter_by(name=name.strip())
    if other_than is not None:
        query = query.where(Organisation.id != other_than.id)
    return db.session.scalar(query) is not None


def create_organisation(name: str, sector: str, size_band: str) -> Organisation:
    """Add an organisation; names are unique, the sector one of ``SECTORS``."""
    name, sector = _checked_fields(name, sector, size_band)
    if organisation_name_taken(name):
        raise ServiceError(f"An organisation called {name!r} already exists.")
    organisation = Organisation(name=name, sector=sector, size_band=size_band)
    db.session.add(organisation)
    db.session.flush()
    return organisation


def update_organisation(
    organisation: Organisation, name: str, sector: str, size_band: str
) -> list[str]:
    """Change an organisation's name, sector and size band; return the fields that changed.

    A new sector or size band moves the organisation to another norm group from now on.
    """
    name, sector = _checked_fields(name, sector, size_band)
    if organisation_name_taken(name, other_than=organisation):
        raise ServiceError(f"An organisation called {name!r} already exists.")
    changed = [
        field
        for field, value in (("name", name), ("sector", sector), ("size_band", size_band))
        if getattr(organisation, field) != value
    ]
    organisation.name, organisation.sector, organisation.size_band = name, sector, size_band
    db.session.flush()
    return changed


def open_campaign_of(organisation: Organisation) -> Campaign | None:
    """The organisation's open campaign, if it has one."""
    return db.session.scalar(
        sa.select(Campaign)
        .where(Campaign.organisation_id == organisation.id, Campaign.status == "open")
        .order_by(Campaign.id)
        .limit(1)
    )


def update_department(department: Department, name: str, headcount: int | None) -> list[str]:
    """Change a department's name and headcount; return the fields that changed.

    Refused while a campaign of the organisation is open: its staff are answering about
    the tree as it stood when the campaign opened.
    """
    running = open_campaign_of(department.organisation)
    if running is not None:
        raise ServiceError(
            f"Campaign {running.id} ({running.name}) of {department.organisation.name} is open; "
            "departments can be changed again once it has closed."
        )
    name = name.strip()
    if not name:
        raise ServiceError("A department needs a name.")
    if len(name) > NAME_MAX:
        raise ServiceError(f"The department's name is longer than {NAME_MAX} characters.")
    problem = describe_control_character(name)
    if problem:
        raise ServiceError(f"The department's name {problem}; remove it.")
    if headcount is not None and not 0 <= headcount <= HEADCOUNT_MAX:
        raise ServiceError(f"The headcount must be a whole number from 0 to {HEADCOUNT_MAX:,}.")
    changed = [
        field
        for field, value in (("name", name), ("headcount", headcount))
        if getattr(department, field) != value
    ]
    department.name, department.headcount = name, headcount
    db.session.flush()
    return changed


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


@dataclass(frozen=True)
class DepartmentNode:
    """One department in a tree for display; ``change`` is "new", "changed" or ""."""

    code: str
    name: str
    headcount: int | None
    change: str
    children: tuple[DepartmentNode, ...]


@dataclass(frozen=True)
class DepartmentPreview:
    """What importing a file would make of the organisation's departments."""

    tree: tuple[DepartmentNode, ...]
    rows: int
    new: int
    changed: int


def _department_state(organisation: Organisation) -> dict[str, tuple[str, int | None, str | None]]:
    departments = db.session.scalars(
        sa.select(Department).where(Department.organisation_id == organisation.id)
    ).all()
    codes = {d.id: d.code for d in departments}
    return {
        d.code: (d.name, d.headcount, codes.get(d.parent_id) if d.parent_id else None)
        for d in departments
    }


def department_tree(
    organisation: Organisation,
    before: dict[str, tuple[str, int | None, str | None]] | None = None,
) -> tuple[DepartmentNode, ...]:
    """The organisation's departments as a tree, sorted by code at every level.

    With ``before`` (an earlier state), each node says whether it is new or changed.
    """
    state = _department_state(organisation)
    children: dict[str | None, list[str]] = {}
    for code, (_name, _headcount, parent) in sorted(state.items()):
        children.setdefault(parent, []).append(code)

    def node(code: str) -> DepartmentNode:
        name, headcount, _parent = state[code]
        change = ""
        if before is not None:
            change = (
                "new" if code not in before else "changed" if before[code] != state[code] else ""
            )
        return DepartmentNode(
            code, name, headcount, change, tuple(node(c) for c in children.get(code, ()))
        )

    return tuple(node(code) for code in children.get(None, ()))


def preview_departments(
    organisation: Organisation, data: bytes | str, name: str
) -> DepartmentPreview:
    """What :func:`import_departments` would store, without storing anything.

    The import runs inside a savepoint that is always rolled back, so the preview applies
    exactly the rules of the import, and raises the same errors.
    """
    before = _department_state(organisation)
    savepoint = db.session.begin_nested()
    try:
        rows = import_departments(organisation, data, name)
        tree = department_tree(organisation, before)
        after = _department_state(organisation)
    finally:
        savepoint.rollback()
    new = sum(1 for code in after if code not in before)
    changed = sum(1 for code in after if code in before and before[code] != after[code])
    return DepartmentPreview(tree, rows, new, changed)


DEPARTMENT_COLUMNS = ("code", "name", "parent_code", "headcount")
# People directly in one department; far beyond any real one, well within the column.
HEADCOUNT_MAX = 10_000_000


def import_departments(organisation: Organisation, data: bytes | str, name: str) -> int:
    """Create or update departments from CSV (code, name, parent_code, headcount).

    Existing departments are matched on code and updated; the whole file is validated
    first and rejected with every problem listed if anything is wrong. Refused while a
    campaign of the organisation is open: its staff answer about the tree it froze.
    """
    running = open_campaign_of(organisation)
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
