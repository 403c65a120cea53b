"""Tickets: the identity of a car with no plate (无牌车: new and not yet registered, plates off
for repair), given at the entrance when the guard taps 无牌车 and typed back at the exit.

A ticket reads 无牌-0303-07: the site's month and day, then a counter of that day (two digits, three
past 99, four past 999). No plate begins with 无, so a ticket is never taken for a real plate, and a
guard can write it on a paper ticket or read it out. It stands where a plate would (a plate
credential's value, the stay's plate, the access record's plate), so the car is decided, counted,
billed and let out as any temporary car; its decisions carry the flag NO_PLATE, by which the centre
tells it apart.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date

from gateway.typed import AS_HYPHEN, typed

PREFIX = "无牌-"
# The flag of every decision on a ticket (the decision core adds it).
NO_PLATE = "no_plate"
# What a guard types for a car with no plate (what Chinese car-park systems show for one): the
# entrance gives it a ticket, as the 无牌车 button does.
NO_PLATE_WORDS = frozenset({"无牌", "无牌车", "无车牌"})

# The counter has as many digits as it needs: a busy day's thousandth car, 无牌-0303-1000, read as
# no ticket, was given it again and could not leave on it.
_TICKET = re.compile(r"^无牌-([0-9]{4})-([0-9]{2,})$")
# As a guard types it back: the dashes left out or typed as spaces (a full-width －, ０ is its
# ASCII self after typed(); a Chinese keyboard's — or – is '-' after AS_HYPHEN).
_TYPED = re.compile(r"^无牌[-\s]*([0-9]{4})[-\s]*([0-9]{2,})$")
# Its number alone, as read off the paper ticket (0303-07): on a booth tablet 无牌 needs the Chinese
# input method, the digits do not. Digits alone are no whole plate (every plate begins with a
# province, or letters), but they are an embassy car's without its 使 (224001 for 使224001): only
# digits whose first four are a month-day (_day_of_a_ticket) are read as a ticket's number.
_NUMBER = re.compile(r"^([0-9]{4})[-\s]*([0-9]{2,})$")
_NUMBER_TYPED = re.compile(r"[0-9][-\s0-9]*$|[0-9]{4}[-\s]")
# A ticket within a line of text (a lane display's), whole, as re.split gives it back.
_WITHIN = re.compile(r"(无牌-[0-9]{4}-[0-9]{2,})")
# A piece of a ticket as a guard looks its car up (ticket_piece), read once the dashes and spaces
# between its parts are one '-' each: its beginning, 无牌 and the month-day (无牌-0303, a long
# ticket's first line on an LED), its counter begun (无牌-0303-1); or its number begun, digits
# about a dash (0303-, 0303-1).
_SEPARATED = re.compile(r"[-\s]+")
_BEGUN = re.compile(r"无牌-?([0-9]{4})(-?)([0-9]*)|无牌-?([0-9]{0,3})")
_NUMBER_BEGUN = re.compile(r"[0-9]{1,4}-[0-9]*")
# East Asian widths a lane panel draws a whole cell (16 dots) wide: wide, full-width, ambiguous.
_WHOLE_CELL = frozenset({"W", "F", "A"})


def ticket(day: date, number: int) -> str:
    """The ticket `number` (from 1) of the site's `day`."""
    return f"{PREFIX}{day:%m%d}-{number:02d}"


def day_prefix(day: date) -> str:
    """What every ticket of `day` begins with: 无牌-0303-."""
    return f"{PREFIX}{day:%m%d}-"


def is_ticket(value: str | None) -> bool:
    return value is not None and _TICKET.match(value) is not None


def number_of(value: str) -> int:
    """The counter of a ticket (7 for 无牌-0303-07); 0 for a value that is not one."""
    found = _TICKET.match(value)
    return int(found.group(2)) if found else 0


def as_ticket(text: str) -> str | None:
    """A ticket as a guard typed it (无牌030307, 无牌 0303 07, full-width digits, a Chinese
    keyboard's dashes: 无牌—0303—07), in its stored form; None when the text is no ticket."""
    found = _TYPED.match(typed(text).translate(AS_HYPHEN))
    return f"{PREFIX}{found.group(1)}-{found.group(2)}" if found else None


def as_ticket_or_number(text: str) -> str | None:
    """A ticket as as_ticket reads it, or its number alone as the guard reads it off the paper
    (0303-07, 0303 07, ０３０３－０７, 0303—07): the ticket 无牌-0303-07. None when it is neither,
    also for digits no ticket can have (224001: there is no month 22), which are left to the
    plate's reading."""
    found = _NUMBER.match(typed(text).translate(AS_HYPHEN))
    if found is not None and _day_of_a_ticket(found.group(1)):
        return f"{PREFIX}{found.group(1)}-{found.group(2)}"
    return as_ticket(text)


def _day_of_a_ticket(digits: str) -> bool:
    """Four digits that are a month and a day of it (0101-1231), as a ticket begins. The ticket has
    no year, so 0229 is one."""
    try:
        date(2000, int(digits[:2]), int(digits[2:]))  # 2000 was a leap year: it has a 29 February
    except ValueError:
        return False
    return True


def ticket_piece(text: str) -> str | None:
    """A piece of a ticket as a guard types it to find the car (无牌-0303, 无牌 0303, 0303—1), as it
    stands in the stored ticket (无牌-0303, 0303-1), read as as_ticket reads a whole one; None when
    the text is no piece of one with 无牌 or a dash (digits alone are a plate's piece too: 0303 is
    in 皖A03031)."""
    shown = _SEPARATED.sub("-", typed(text).translate(AS_HYPHEN))
    begun = _BEGUN.fullmatch(shown)
    if begun is None:
        return shown if _NUMBER_BEGUN.fullmatch(shown) else None
    day, dash, counter, short = begun.groups()
    if short is not None:
        return f"{PREFIX}{short}"
    return f"{PREFIX}{day}-{counter}" if dash or counter else f"{PREFIX}{day}"


def meant_as_ticket(text: str) -> bool:
    """The guard typed a ticket, well formed or not (无牌—0303, a letter for a digit): the text
    begins 无牌, as no plate does, and is not 无牌车 itself. Such a text is a ticket to look for
    among the cars inside, not a plate mistyped."""
    return typed(text).startswith(PREFIX[:-1]) and not says_no_plate(text)


def meant_as_number(text: str) -> bool:
    """The guard typed a ticket's number, well formed or not (0303-1 its counter short, 0303-0l a
    letter for a digit): digits, dashes and spaces only, or a month-day and a dash, as no plate is
    (every plate begins with a province, or letters)."""
    shown = typed(text).translate(AS_HYPHEN)
    return _NUMBER_TYPED.match(shown) is not None


def split_at_tickets(line: str) -> list[str]:
    """The line in pieces, each ticket in it a piece of its own: 请 无牌-0303-07 缴费 gives '请 ',
    '无牌-0303-07', ' 缴费'."""
    return [piece for piece in _WITHIN.split(line) if piece]


def half_cells(text: str) -> int:
    """How wide `text` is on a lane LED panel, in half-cells. A panel's 16x16 font draws a Chinese
    character 16 dots wide (a cell), an ASCII letter, digit or space 8 (half a cell): a 64-dot panel
    holds 4 hanzi, or 皖A12345 (16 + 6 x 8 dots). Counted by len(), the plate was taken for 7 hanzi
    and broken 皖A / 1234 / 5 on a panel it fits. East Asian width A (ambiguous: ·, —, ①) counts a
    whole cell too: a GB2312/GBK controller draws every double-byte character from its 16-dot font."""
    return sum(2 if unicodedata.east_asian_width(ch) in _WHOLE_CELL else 1 for ch in text)


def cut_to_cells(text: str, half: int) -> list[str]:
    """`text` cut into lines of at most `half` half-cells (a character wider than that alone on
    its line): where a word must be cut, it is cut there and nowhere else."""
    lines: list[str] = []
    line, size = "", 0
    for ch in text:
        wide = half_cells(ch)
        if line and size + wide > half:
            lines.append(line)
            line, size = "", 0
        line, size = line + ch, size + wide
    return [*lines, line] if line else lines


def ticket_lines(value: str, width: int) -> list[str]:
    """The lines on which a panel `width` cells wide (Chinese characters; a letter or digit is half
    of one, half_cells) shows the ticket `value`: whole on one line where it fits (无牌-0303-07, 6
    cells), else without its dashes (无牌030307, 5), else broken at its dashes (无牌-0303 / -100).
    Never cut anywhere else: 无牌0303100 cut at 8 characters read 无牌030310, the ticket of another
    car. No line of a broken ticket is a ticket (the month and day and the counter each stand
    alone), and as_ticket reads its lines typed together, with or without a space, as the ticket."""
    if not width:
        return [value]  # a display's width 0: lines of any length
    forms = _panel_forms(value)
    for lines in forms:
        if all(half_cells(line) <= 2 * width for line in lines):
            return lines
    # A panel narrower than 2 cells (无牌): cut where it must. A line so short is never a ticket.
    return [part for line in forms[-1] for part in cut_to_cells(line, 2 * width)]


def _panel_forms(value: str) -> list[list[str]]:
    """The ways to show a ticket on a panel, the clearest first (the widest)."""
    found = _TICKET.match(value)
    if found is None:
        return [[value]]
    day, number = found.groups()
    return [
        [value],
        [f"无牌{day}{number}"],
        [f"{PREFIX}{day}", f"-{number}"],
        [PREFIX[:-1], f"-{day}", f"-{number}"],
        [PREFIX[:-1], day, number],
    ]


def says_no_plate(text: str) -> bool:
    """The guard typed 无牌车 (or 无牌, 无车牌) for the car rather than a plate."""
    return typed(text).replace(" ", "") in NO_PLATE_WORDS
