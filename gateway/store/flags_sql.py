"""SQL on a comma-separated flags column (access_log.flags, stays.redecided_flags, an import run's
`given`): a flag is there when `,flag,` occurs in `,column,`. One spelling for every query, so that
a partial index on it (access_log_no_entry_refused, gateway/store/schema.py) is still used."""

from __future__ import annotations


def has_flag_sql(column: str, flag: str) -> str:
    """SQL, true where the flags `column` (an expression: `a.flags`) hold `flag`."""
    return f"instr(',' || {column} || ',', ',{flag},') > 0"


def lacks_flag_sql(column: str, flag: str) -> str:
    """SQL, true where the flags `column` do not hold `flag`."""
    return f"instr(',' || {column} || ',', ',{flag},') = 0"
