"""Rules on a contribution's amendments: what :mod:`nk_defections.check.amend` found wrong.

The amendments are applied to the package's rows before any rule runs (the other rules then
check the result); what is wrong with an amendment itself is found as it is applied, and
reported here, at the amendment.
"""

from __future__ import annotations

from collections.abc import Iterator

import polars as pl

from nk_defections.check.amend import CODE, FIELD, MESSAGE
from nk_defections.check.rules import Batch, Context, emit, rule
from nk_defections.findings import codes as C
from nk_defections.findings.issues import Issue
from nk_defections.model.package import REDIRECTS


@rule(
    C.AMEND_UNKNOWN_RECORD,
    C.AMEND_RETIRED_RECORD,
    C.AMEND_UNKNOWN_FIELD,
    C.AMEND_FIXED_FIELD,
    C.AMEND_OP_FIELDS,
    C.AMEND_WRONG_TABLE,
    C.AMEND_MERGE_MISMATCH,
    C.AMEND_RETIRE_ORPHANS,
    C.REF_REDIRECTED,
    tables=(REDIRECTS,),
)
def check_amendments(ctx: Context) -> Iterator[Issue | Batch]:
    """Each amendment names a record, a field and a target that it can change, in the way its op says.

    A reference of the contribution to a merged id is taken to the record that stands for it
    (``ref.redirected``, a warning).
    """
    if ctx.amended is None or ctx.amended.faults.is_empty():
        return
    faults = ctx.amended.faults
    for (code, field), _ in faults.group_by(CODE, FIELD, maintain_order=True):
        rows = faults.filter((pl.col(CODE) == code) & pl.col(FIELD).eq_missing(field))
        yield from emit(rows, str(code), field, lambda r: str(r[MESSAGE]))


RULES = [check_amendments]
