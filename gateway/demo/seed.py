"""Demo and benchmark data: residents, cards, vehicles and slots, written as the CSVs `import` reads."""

from __future__ import annotations

import csv
import random
from pathlib import Path

from plates.synth.texts import text_for

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华建国志红梅文"


def random_plate(rng: random.Random, province: str = "皖") -> str:
    """A blue plate, or now and then a green new-energy one, that fits the plate grammar."""
    fmt = "new_energy_small" if rng.random() < 0.15 else "standard"
    return province + text_for(fmt, rng)[1:]


def write_site_csvs(
    out_dir: Path,
    residents: int,
    cards: int,
    slots: int,
    zone: str = "main",
    seed: int = 7,
) -> dict[str, Path]:
    """Residents with one car each (some with two sharing a slot), cards, and fixed slots."""
    rng = random.Random(seed)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = {k: out_dir / f"{k}.csv" for k in ("residents", "vehicles", "cards", "slots")}
    owned: dict[int, list[str]] = {}
    used: set[str] = set()
    with open(paths["residents"], "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["ref", "building", "unit", "room", "name", "phone"])
        for i in range(residents):
            name = (
                rng.choice(SURNAMES) + rng.choice(GIVEN) + (rng.choice(GIVEN) if rng.random() < 0.6 else "")
            )
            phone = "1" + rng.choice("3589") + "".join(rng.choice("0123456789") for _ in range(9))
            w.writerow(
                [
                    f"R{i:06d}",
                    f"{i // 120 + 1}栋",
                    f"{i % 4 + 1}单元",
                    f"{i % 30 + 101}",
                    name,
                    phone,
                ]
            )
    with open(paths["vehicles"], "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["plate", "resident_ref", "class", "monthly_until"])
        for i in range(residents):
            for _ in range(2 if i % 10 == 0 else 1):  # one resident in ten has a second car
                plate = random_plate(rng)
                while plate in used:
                    plate = random_plate(rng)
                used.add(plate)
                owned.setdefault(i, []).append(plate)
                monthly = "2030-12-31" if i % 7 == 3 else ""
                w.writerow([plate, f"R{i:06d}", "car", monthly])
    with open(paths["cards"], "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["card", "resident_ref", "valid_to", "blocked"])
        for i in range(cards):
            valid_to = "2020-12-31" if i % 50 == 7 else ""
            w.writerow(
                [
                    f"{0x0A00000000 + i * 7919:010X}",
                    f"R{i % residents:06d}",
                    valid_to,
                    int(i % 97 == 5),
                ]
            )
    with open(paths["slots"], "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["zone", "number", "resident_ref", "plates"])
        written = 0
        for i in range(residents):
            if written == slots:
                break
            if i % 7 == 3:  # monthly-rent cars park in the shared spaces
                continue
            # Both cars of a two-car resident share the one slot (一位多车).
            w.writerow([zone, f"B{i:06d}", f"R{i:06d}", ";".join(owned[i])])
            written += 1
    return paths
