"""tools/compare_tracks.py: two agents track for track, and its one-line errors."""

import pytest
from conftest import run_script

HEADER = "track,reward,lap_finished,steps_off_road,mean_speed"


def details(path, rows):
    path.write_text(
        HEADER + "\n" + "".join(f"{t},{r},{lap},{off},50.0\n" for t, r, lap, off in rows)
    )
    return str(path)


def test_prints_both_agents_and_the_paired_difference(tmp_path):
    base = details(tmp_path / "base.csv", [(0, 900, 1, 0), (1, 400, 0, 30), (2, 800, 0, 6)])
    # 10, 30 and 20 points more: mean 20, standard deviation 10, standard error 10/sqrt(3)
    new = details(tmp_path / "new.csv", [(2, 820, 1, 2), (0, 910, 1, 0), (1, 430, 0, 10)])
    out = run_script("tools/compare_tracks.py", new, base).stdout.splitlines()
    assert out[0].startswith("first:  720.0 +/- 208.3, median 820, 2 laps finished, ")
    assert "1 under 500 (worst 430), 4.0 steps off the road" in out[0]
    assert out[1].startswith("second: 700.0 +/- 216.0, median 800, 1 laps finished, 1 under 500")
    assert out[2] == (
        "first - second over 3 tracks: +20.0, standard error 5.8 (+3.5 SE): "
        "more than 2 standard errors ahead"
    )
    out = run_script("tools/compare_tracks.py", base, new).stdout.splitlines()
    assert out[2].endswith(
        "-20.0, standard error 5.8 (-3.5 SE): not more than 2 standard errors ahead"
    )


def test_splits_the_laps_where_the_details_have_the_lap_columns(tmp_path):
    """With steps, tiles_total and furthest_tile: the finished laps' average and pace, and
    the unfinished ones', with how many ran out of time within 5% of the end."""
    header = "track,reward,lap_finished,steps_off_road,steps,tiles_total,furthest_tile\n"
    # finished: 800 steps over 250 tiles (3.20) and 900 over 300 (3.00): 3.10 a tile;
    # unfinished: 1000 steps to tile 290 of 300 (within 5%: 3.45) and to 250 of 300 (4.00)
    rows = ["0,920,1,0,800,250,250", "1,900,1,0,900,300,300", "2,850,0,0,1000,300,290"]
    (tmp_path / "a.csv").write_text(header + "\n".join(rows + ["3,700,0,5,1000,300,250"]))
    (tmp_path / "b.csv").write_text(header + "\n".join(rows + ["3,800,1,0,950,300,300"]))
    out = run_script("tools/compare_tracks.py", str(tmp_path / "a.csv"), str(tmp_path / "b.csv"))
    lines = out.stdout.splitlines()
    assert lines[3] == (
        "first laps:  2 finished, average 910.0, 3.10 steps a tile; "
        "2 unfinished, average 775.0, 3.72 steps a tile, 1 within 5% of the end"
    )
    assert lines[4] == (
        "second laps: 3 finished, average 873.3, 3.12 steps a tile; "
        "1 unfinished, average 850.0, 3.45 steps a tile, 1 within 5% of the end"
    )
    # without the lap columns (as in the test above) there is no such line
    base = details(tmp_path / "base.csv", [(0, 900, 1, 0)])
    assert len(run_script("tools/compare_tracks.py", base, base).stdout.splitlines()) == 3


@pytest.mark.parametrize(
    "text, expected",
    [
        ("track,reward\n0,900\n", "new.csv: expected model.py norender --details' CSV"),
        (HEADER + "\n0,abc,1,0,50\n", "new.csv: expected model.py norender --details' CSV"),
        (HEADER + "\n0,900,1,0,50\n0,900,1,0,50\n", "new.csv: a track appears twice"),
        (HEADER + "\n5,900,1,0,50\n", "base.csv: expected the same tracks as"),
    ],
)
def test_bad_input_is_one_line_naming_the_file(tmp_path, text, expected):
    base = details(tmp_path / "base.csv", [(5, 900, 1, 0), (6, 800, 0, 0)])
    (tmp_path / "new.csv").write_text(text)
    proc = run_script("tools/compare_tracks.py", str(tmp_path / "new.csv"), base, check=False)
    assert proc.returncode == 2 and proc.stdout == ""
    lines = proc.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("compare_tracks.py: error: "), lines
    assert expected in lines[0]


def test_a_missing_file_is_one_line(tmp_path):
    proc = run_script("tools/compare_tracks.py", str(tmp_path / "no.csv"), "x.csv", check=False)
    assert proc.returncode == 2 and "no.csv" in proc.stderr and len(proc.stderr.splitlines()) == 1
