"""Mutants that no test can kill because they do not change what the code does, with the reason.

Keyed by module name and mutant key (``python -m tests.mutation MODULE --list`` shows the keys). A key that stops
matching (the code moved on) is reported by the run, and so is a listed mutant that a test kills after all.
"""

from __future__ import annotations

STRICT_IS_A_BOUND = ("only a bound is strict (read_value never makes a strict figure), so r.strict already implies "
                     "the op this operand checks")

EQUIVALENT: dict[str, dict[str, str]] = {
    "permissions": {
        "region_ids_above:operand:drop and operand 1#1": (
            "`region is not None`: a region's parent_id names an existing region (foreign key), and the walk "
            "starts at the user's own region, so the loop never meets None"),
    },
    "targets": {
        "infer_direction:cmp:> → >=#1": "the same line requires baseline != target: the two are never equal there",
        "_parse_numeric:return:return None#1": (
            "a ratio with a zero first term: None falls through to parse_target's last line, which builds the "
            "same qualitative rule (direction none, basis unknown, review)"),
        "_parse_numeric:operand:drop or operand 2#2": (
            "`m[1] or \"\"`: an absent prefix is None, which is in neither word list, exactly like \"\""),
        "_parse_numeric:operand:drop or operand 2#4": "as #2, for the at-most prefix",
        "parse_value:int:1 → 0#1": "NUM's only group spans the whole match, so m[0] == m[1]",
        "<module>:int:2 → 3#1": "JUDGEMENT_RANK: only the order of the ranks is used, and 达成 stays the best",
        "expected_at:cmp:>= → >#1": "in the target year the straight line's formula gives the target itself",
        "expected_at:cmp:<= → <#2": "in the start year the straight line's formula gives the start value itself",
        "_ahead:operand:drop and operand 1#3": STRICT_IS_A_BOUND,
        "_ahead:operand:drop and operand 1#6": STRICT_IS_A_BOUND,
        "_beyond:operand:drop and operand 1#2": STRICT_IS_A_BOUND,
        "_beyond:operand:drop and operand 1#4": STRICT_IS_A_BOUND,
    },
    "alerts": {
        "thresholds.first_deadline_counting_from:int:60 → 59#1": (
            "the loop's bound: no run of non-working days comes near 59 days"),
        "thresholds.first_deadline_counting_from:int:60 → 61#1": "as 60 → 59",
        "_sync_statuses:values:drop updated_at=#1": (
            "the column's onupdate stamps the clock's time of the same scan (timeutil.now)"),
        "_sync_statuses:values:drop updated_at=#2": "as #1",
        "_sync_statuses:values:drop updated_at=#3": "as #1",
        "_sync_statuses:values:drop updated_at=#4": "as #1",
        "_sync_statuses:bool:False → True#1": (
            "ensure_ascii of the audit entry's JSON text: escaped or not, the stored JSON reads back the same"),
        "_sync_statuses:bool:False → True#2": "as #1",
        "_sync_statuses:sqlcond:drop or_ condition 1#1": (
            "deadline IS NULL: only a chapter may have no deadline (CHECK deadline_required), and a chapter never "
            "becomes 已逾期 (the scan skips chapters and 已逾期 cannot be chosen by hand)"),
        "_task_candidate:sqlcond:drop and_ condition 2#1": (
            "deadline IS NOT NULL beside level <> chapter: every other task has a deadline (CHECK deadline_required)"),
    },
}
