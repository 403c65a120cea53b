"""Review of the CSV encoding guess (gateway/store/csv_file.py): a UTF-8 file of Russian names is
not taken as GBK without a word, a refusal names the line and character it doubts and gives a fix
that works (`--encoding utf-8|gbk` on `gateway import` and `gateway import-inside`), and a '?' of a
file without a BOM, pure ASCII too, is never written over a name (README, "CSV files")."""

from __future__ import annotations

import csv
import io
import sqlite3
from contextlib import closing
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from gateway.cli import EX_DATAERR, main
from gateway.store.csv_file import BadEncoding, EncodingRefused, decode
from gateway.store.csv_inside import read_inside
from tests.conftest import site_toml
from tests.parking.conftest import parking_toml

PROVINCES = "京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼"
HEADER = "ref,building,unit,room,name\r\n"


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "site.toml"
    path.write_text(site_toml(tmp_path / "data"), encoding="utf-8")
    return path


def names(config: Path) -> list[tuple[object, ...]]:
    with closing(sqlite3.connect(config.parent / "data" / "gateway.db")) as conn:
        return conn.execute("SELECT ref, name FROM residents ORDER BY ref").fetchall()


def residents_file(path: Path, rows: list[str], encoding: str = "utf-8") -> Path:
    path.write_bytes((HEADER + "".join(f"{row}\r\n" for row in rows)).encode(encoding))
    return path


# 1. A UTF-8 file of names in another script, without a BOM


def test_a_russian_name_in_a_utf8_file_is_refused_naming_both_readings_not_stored_as_hanzi(
    config: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Уланова in UTF-8 is valid GB2312 (校谢邪薪芯胁邪): both readings are names, so the file is
    refused, and --encoding utf-8 stores it."""
    path = residents_file(tmp_path / "residents.csv", ["R1,1,2,301,Уланова"])
    assert main(["import", "-c", str(config), str(path)]) == EX_DATAERR
    err = capsys.readouterr().err
    assert "line 2 reads 'Уланова' as UTF-8 and '校谢邪薪芯胁邪' as GBK" in err, err
    assert (
        "fix: run it again with --encoding utf-8 if line 2 should read 'Уланова', or --encoding gbk if "
        "it should read '校谢邪薪芯胁邪'" in err
    ), err
    assert names(config) == []
    assert main(["import", "-c", str(config), "--encoding", "utf-8", str(path)]) == 0
    assert names(config) == [("R1", "Уланова")]


@pytest.mark.parametrize(
    "name",
    ["Παπαδόπουλος", "Уланова Ирина", "Müller", "محمد", "阿依古丽·买买提", "佐藤さくら"],
)
def test_a_utf8_name_in_words_of_one_script_is_a_plausible_reading(name: str) -> None:
    raw = f"{HEADER}R1,1,2,301,{name}\r\n".encode()
    try:
        read = decode(raw)
    except BadEncoding as doubt:  # where the GBK reading is a name too
        assert f"should read {name!r}" in str(doubt)
    else:
        assert (read.text, read.gbk) == (raw.decode(), False)


@pytest.mark.parametrize(
    ("raw", "odd"),
    [
        # GBK bytes read as UTF-8: a lone letter, a letter among others of another script.
        ("R1,1,2,301,豫\r\n".encode("gbk"), "ԥ"),
        ("R1,1,2,301,鲁\r\n".encode("gbk"), "³"),
        ("R1,1,2,301,佟伟\r\n".encode("gbk"), "١ΰ"),
        ("R1,1,2,301,豫A12345\r\n".encode("gbk"), "ԥA12345"),
    ],
)
def test_gbk_bytes_that_read_as_lone_or_mixed_letters_are_read_as_gbk(raw: bytes, odd: str) -> None:
    assert odd in raw.decode("utf-8")
    read = decode(raw)
    assert (read.text, read.gbk) == (raw.decode("gb18030"), True)


@pytest.mark.parametrize("province", PROVINCES)
def test_a_gbk_plate_file_reads_as_gbk_for_every_province(province: str) -> None:
    raw = f"plate,resident_ref\r\n{province}A12345,R1\r\n{province}B5678D,R2\r\n".encode("gbk")
    read = decode(raw)
    assert read.text == raw.decode("gb18030")


def test_a_gb18030_character_gbk_lacks_is_kept() -> None:
    raw = "ref,building,unit,name\r\nR1,1,2,刘䶮\r\n".encode("gb18030")
    assert decode(raw).text == "ref,building,unit,name\r\nR1,1,2,刘䶮\r\n"


# 2. A refusal names the line and the character it doubts, with a fix that works


def sixty_rows_one_emoji(path: Path) -> Path:
    rows = [f"R{i},1,2,{300 + i},张三{i}" for i in range(60)]
    rows[39] = "R39,1,2,339,小雨😀"  # line 41 of the file
    return residents_file(path, rows)


def test_a_refused_utf8_file_names_the_line_of_the_character_it_doubts(
    config: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = sixty_rows_one_emoji(tmp_path / "residents.csv")
    as_gbk = "小雨😀".encode().decode("gb18030")
    assert main(["import", "-c", str(config), str(path)]) == EX_DATAERR
    err = capsys.readouterr().err
    assert f"{path}: cannot tell whether it is UTF-8 or GBK text: read as UTF-8, line 41 has '😀'" in err, err
    assert (
        f"fix: run it again with --encoding utf-8 if line 41 should read '小雨😀', or --encoding gbk if "
        f"it should read {as_gbk!r}" in err
    ), err
    # The file's encoding, not its rows: not 'N bad row(s)', not 'correct these rows'.
    assert "import refused: cannot tell the encoding of 1 file; nothing was imported" in err, err
    assert "bad row" not in err and "correct these rows" not in err, err
    assert "save it as CSV UTF-8" not in err  # Excel would open it as GBK and save it garbled
    assert names(config) == []


def test_with_encoding_utf8_the_file_imports_as_it_is(
    config: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = sixty_rows_one_emoji(tmp_path / "residents.csv")
    assert main(["import", "-c", str(config), "--encoding", "utf-8", str(path)]) == 0, capsys.readouterr().err
    stored = dict(names(config))
    assert len(stored) == 60 and stored["R39"] == "小雨😀" and stored["R0"] == "张三0"


def test_following_the_refusals_fix_stores_the_names_as_they_were(
    config: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The refusal's fix, as an installer follows it (the reviewer's Excel round trip is no fix now)."""
    rows = ["R0,1,2,301,张三", "R1,1,2,302,李四", "R2,1,2,303,王芳😀"]
    path = residents_file(tmp_path / "residents.csv", rows)
    assert main(["import", "-c", str(config), str(path)]) == EX_DATAERR
    err = capsys.readouterr().err
    assert "save it as CSV UTF-8" not in err
    assert "run it again with --encoding utf-8 if line 4 should read '王芳😀'" in err, err
    assert main(["import", "-c", str(config), "--encoding", "utf-8", str(path)]) == 0
    assert names(config) == [("R0", "张三"), ("R1", "李四"), ("R2", "王芳😀")]


def test_with_encoding_gbk_a_gbk_file_is_read_as_gbk_without_guessing(config: Path, tmp_path: Path) -> None:
    path = residents_file(tmp_path / "residents.csv", ["R1,1,2,301,莫"], "gbk")  # 'Ī' as UTF-8: refused
    assert main(["import", "-c", str(config), str(path)]) == EX_DATAERR
    assert main(["import", "-c", str(config), "--encoding", "gbk", str(path)]) == 0
    assert names(config) == [("R1", "莫")]


def test_an_encoding_given_that_the_file_is_not_is_refused_with_the_line(
    config: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = residents_file(tmp_path / "residents.csv", ["R1,1,2,301,Li", "R2,1,2,302,陶喆"], "gbk")
    assert main(["import", "-c", str(config), "--encoding", "utf-8", str(path)]) == EX_DATAERR
    err = capsys.readouterr().err
    assert f"{path}: is not UTF-8 text (line 3)" in err, err
    assert names(config) == []


def test_a_file_with_a_bom_is_utf8_whatever_encoding_is_given(
    config: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The refusal of a GBK file of 莫 says to run again with --encoding gbk; an export (UTF-8 with
    a BOM) in the same run was then refused 'leave --encoding gbk out', which gave the first
    refusal again: the installer went round in a circle. A BOM settles a file: --encoding is for
    the files without one."""
    saved_by_excel = residents_file(tmp_path / "residents.csv", ["R1,1,2,301,莫"], "gbk")
    exported = tmp_path / "vehicles.csv"
    exported.write_bytes("\ufeffplate,resident_ref\r\n皖A12345,R1\r\n".encode("utf-8"))
    run = ["import", "-c", str(config)]
    assert main([*run, str(saved_by_excel), str(exported)]) == EX_DATAERR
    assert "--encoding gbk" in capsys.readouterr().err
    assert main([*run, "--encoding", "gbk", str(saved_by_excel), str(exported)]) == 0, capsys.readouterr().err
    assert names(config) == [("R1", "莫")]


def test_an_encoding_not_offered_is_refused_by_the_command(
    config: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = residents_file(tmp_path / "residents.csv", ["R1,1,2,301,Li"])
    with pytest.raises(SystemExit):
        main(["import", "-c", str(config), "--encoding", "latin-1", str(path)])
    assert "invalid choice: 'latin-1'" in capsys.readouterr().err


def test_a_refused_encoding_comes_with_the_other_files_problems(tmp_path: Path) -> None:
    from gateway.store.csv_import import read_files

    doubtful = residents_file(tmp_path / "residents.csv", ["R1,1,2,301,Уланова"])
    bad = residents_file(tmp_path / "more.csv", ["R2,1,2,302,"])
    with pytest.raises(EncodingRefused) as refused:
        read_files([doubtful, bad], ZoneInfo("Asia/Shanghai"))
    message = str(refused.value)
    assert message.startswith("cannot tell the encoding of 1 file; nothing was imported:\n")
    assert f"\n{bad}:2: name:" in message


# 2b. gateway import-inside


@pytest.fixture
def parking_site(tmp_path: Path) -> Path:
    config = tmp_path / "site.toml"
    config.write_text(parking_toml(tmp_path / "data"), encoding="utf-8")
    return config


def test_import_inside_refuses_a_file_in_doubt_and_takes_encoding(
    parking_site: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    listed = tmp_path / "inside.csv"
    listed.write_bytes("plate,zone\r\n苏E11111,main\r\n苏E22222,main😀\r\n".encode())
    assert main(["import-inside", "-c", str(parking_site), str(listed)]) == EX_DATAERR
    err = capsys.readouterr().err
    assert "cannot tell the encoding of 1 file; nothing was recorded" in err, err
    assert "run it again with --encoding utf-8 if line 3 should read 'main😀'" in err, err
    assert "bad row" not in err
    assert main(["import-inside", "-c", str(parking_site), "--encoding", "utf-8", str(listed)]) == EX_DATAERR
    err = capsys.readouterr().err  # read as UTF-8, with no guessing: the zone itself is wrong
    assert f"{listed}:3: zone 'main😀' is not a zone of this site" in err, err
    listed.write_bytes("plate\r\n豫A12345\r\n".encode("gbk"))
    assert main(["import-inside", "-c", str(parking_site), "--encoding", "gbk", str(listed)]) == 0
    assert "recorded 1 car(s) inside" in capsys.readouterr().out
    rows, problems = read_inside(listed, ZoneInfo("Asia/Shanghai"), "gbk")  # inside already: a problem
    assert [row.car.plate for row in rows] == ["豫A12345"] and problems == []


# 3. A '?' where Excel's "CSV" lost a character, in a file that is pure ASCII


def test_an_export_saved_by_excel_as_csv_never_stores_a_lost_character_as_question_mark(
    config: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Łukasz Nowak saved by Excel as "CSV" is '?ukasz Nowak', and the file then pure ASCII."""
    people = tmp_path / "r.csv"
    people.write_bytes(f"\ufeff{HEADER}R1,1,2,301,Łukasz Nowak\r\nR2,1,2,302,John Smith\r\n".encode())
    assert main(["import", "-c", str(config), str(people)]) == 0
    out = tmp_path / "export"
    assert main(["export", "-c", str(config), str(out)]) == 0
    rows = list(csv.reader(io.StringIO((out / "residents.csv").read_text(encoding="utf-8-sig"), newline="")))
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\r\n").writerows(rows)  # Excel on a Chinese Windows: "CSV"
    saved = tmp_path / "residents.csv"
    saved.write_bytes(buf.getvalue().encode("gbk", errors="replace"))
    assert b"?ukasz" in saved.read_bytes() and saved.read_bytes().isascii()
    capsys.readouterr()
    assert main(["import", "-c", str(config), str(saved)]) == EX_DATAERR
    err = capsys.readouterr().err
    assert f"{saved}:2: name: '?ukasz Nowak' has a '?', what Excel writes for a character GBK lacks" in err
    assert "if the '?' is meant, import the file with --encoding utf-8" in err, err
    assert dict(names(config))["R1"] == "Łukasz Nowak"


def test_a_question_mark_meant_is_taken_with_a_bom_or_encoding_utf8(config: Path, tmp_path: Path) -> None:
    bare = residents_file(tmp_path / "bare.csv", ["R1,1,2,301,Who?"])
    assert main(["import", "-c", str(config), str(bare)]) == EX_DATAERR
    assert main(["import", "-c", str(config), "--encoding", "utf-8", str(bare)]) == 0
    bom = residents_file(tmp_path / "bom.csv", ["R2,1,2,302,张?"], "utf-8-sig")
    assert main(["import", "-c", str(config), str(bom)]) == 0
    assert names(config) == [("R1", "Who?"), ("R2", "张?")]


def test_a_question_mark_in_a_file_read_as_gbk_is_refused_with_encoding_gbk_too(
    config: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = residents_file(tmp_path / "residents.csv", ["R1,1,2,301,刘?"], "gbk")
    assert main(["import", "-c", str(config), "--encoding", "gbk", str(path)]) == EX_DATAERR
    err = capsys.readouterr().err
    assert f"{path}:2: name: '刘?' has a '?'" in err
    assert "--encoding utf-8" not in err  # a GBK file read as UTF-8 would be garbled
    assert names(config) == []
