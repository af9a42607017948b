"""The answer file as an SPSS ``.sav``: variable labels, value labels and missing values.

Written by ``spss_format.py`` (the standard library and NumPy; no data-frame library)
batch by batch, as the CSV is: the header and dictionary first, then each batch of
rows of ``AnswerFile.batches``, so memory holds one batch whatever the campaign's size.

The variables are the codebook's, in its order and of its types: department and role
level are the codes the CSV holds, with their names as value labels; every statement
is a number with the scale's labels and -1 ("don't know") and -2 (no answer) declared
as missing values; comment and reason are text. A string variable's width is fixed in
the dictionary, before any row, so it is worked out first: from the release decision
for department, role and reason, and from the longest comment the file can show.
SPSS strings hold at most 32,767 bytes; a longer comment (an imported one, say)
continues in ``comment_2``, ``comment_3``, ..., cut between characters. The file's
documents (``DISPLAY DOCUMENTS``) say how the file protects respondents, as the
Excel workbook's sheet does.
"""

from __future__ import annotations

from collections.abc import Iterator

import sqlalchemy as sa

from ..extensions import db
from ..models import Response
from .answer_files import AnswerFile
from .codebook import Codebook, Variable
from .spreadsheet import safe_cell
from .spss_format import FILE_LABEL_BYTES, MAX_STRING_BYTES, SavVariable, fit, write_sav
from .spss_format import string_width as width_of

# A cut between characters leaves a part at most 3 bytes short of the limit.
PART_BYTES = MAX_STRING_BYTES - 3


def answers_sav(file: AnswerFile) -> Iterator[bytes]:
    """The answer file as an SPSS system file, in chunks."""
    codebook = file.codebook
    comment_parts, comment_width = _comment_layout(file)
    variables = []
    for variable in codebook.variables:
        if variable.kind == "comment":
            variables += _comment_variables(variable, comment_parts, comment_width)
        else:
            variables.append(_sav_variable(variable, _string_width(file, variable)))

    def rows() -> Iterator[list[list[object]]]:
        for batch in file.batches():
            yield [
                [*row[:-2], *split_text(row[-2], comment_parts), row[-1]]
                if comment_parts > 1
                else row
                for row in batch
            ]

    return write_sav(
        variables,
        rows(),
        cases=len(file),
        label=fit(f"{codebook.organisation}: {codebook.campaign}", FILE_LABEL_BYTES),
        documents=_documents(codebook),
    )


def _sav_variable(variable: Variable, width: int) -> SavVariable:
    labels = tuple(
        (float(v.value), v.label) if variable.numeric else (safe_cell(str(v.value)), v.label)
        for v in variable.values
    )
    return SavVariable(
        name=variable.name,
        label=variable.label,
        width=0 if variable.numeric else width,
        measure="ordinal" if variable.kind == "item" else "nominal",
        value_labels=labels,
        missing=tuple(float(v.value) for v in variable.values if v.missing),
    )


def _string_width(file: AnswerFile, variable: Variable) -> int:
    """The width of department, role level or reason: every value the file can hold."""
    if variable.numeric:
        return 0
    release = file.release
    labelled = [safe_cell(str(v.value)) for v in variable.values]
    cells = set(file.cells)
    if variable.kind == "department":
        shown = [
            safe_cell(file.department_codes.get(label, ""))
            for label in {release.department(d) for d, _ in cells}
            if label is not None
        ]
    elif variable.kind == "role":
        shown = [safe_cell(release.role(d, r) or "") for d, r in cells]
    else:
        codebook = file.codebook
        shown = [codebook.reason_text(release.reasons(d, r)) for d, r in cells]
    return width_of([*labelled, *shown])


def _comment_layout(file: AnswerFile) -> tuple[int, int]:
    """How many comment variables the file needs, and the width of the widest."""
    longest = _longest_comment(file)
    if longest <= MAX_STRING_BYTES:
        return 1, max(longest, 1)
    return -(-longest // PART_BYTES), MAX_STRING_BYTES


def _longest_comment(file: AnswerFile) -> int:
    """An upper bound of the bytes of any comment the file shows (quoted if formula-like)."""
    departments = {d for d, _ in set(file.cells) if file.release.comments_shown(d)}
    if not departments:
        return 0
    if db.engine.dialect.name == "sqlite":
        length = sa.func.length(sa.cast(Response.comment, sa.LargeBinary))
    else:
        length = sa.func.octet_length(Response.comment)
    longest = db.session.scalar(
        sa.select(sa.func.max(length)).where(
            Response.campaign_id == file.campaign_id,
            Response.department_id.in_(departments),
            Response.comment.is_not(None),
            Response.comment_hidden.is_(False),
        )
    )
    return 0 if longest is None else int(longest) + 1  # + 1: the quote of safe_cell


def _comment_variables(variable: Variable, parts: int, width: int) -> list[SavVariable]:
    first = SavVariable(variable.name, variable.label, width=width)
    if parts == 1:
        return [first]
    return [first] + [
        SavVariable(f"{variable.name}_{n}", f"{variable.label} ({n}/{parts})", width=width)
        for n in range(2, parts + 1)
    ]


def split_text(text: str, parts: int, limit: int = MAX_STRING_BYTES) -> list[str]:
    """``text`` in ``parts`` pieces of at most ``limit`` bytes of UTF-8, cut between characters.

    Every piece but the last is as long as the limit allows; pieces not needed are empty.
    """
    data = text.encode("utf-8")
    pieces = []
    for _ in range(parts):
        cut = min(limit, len(data))
        while cut < len(data) and data[cut] & 0xC0 == 0x80:  # inside a character
            cut -= 1
        pieces.append(data[:cut].decode("utf-8"))
        data = data[cut:]
    if data:
        raise ValueError(f"The text needs more than {parts} pieces of {limit} bytes.")
    return pieces


def _documents(codebook: Codebook) -> list[str]:
    """The file's documents: how it protects respondents, and each reason explained."""
    return [
        f"{codebook.title}: {codebook.organisation}, {codebook.campaign} "
        f"({codebook.questionnaire})",
        *codebook.notes,
        *(f"{reason.text}: {reason.explanation}" for reason in codebook.reasons),
    ]
