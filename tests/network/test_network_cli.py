"""The ``bolo network`` sub-app and the posts CSV reader."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import shapely
from typer.testing import CliRunner

from bolo.network import BUNDLED_CORRIDORS, NetworkImportError
from bolo.network.cli import app
from bolo.network.corridors import load_corridors
from bolo.network.graph import Mode, PostKind
from bolo.network.posts import read_posts_csv

ANDORRA = Path(__file__).resolve().parent.parent / "fixtures" / "vh_andorra-latest.osm.pbf"
runner = CliRunner()


def test_import_info_posts_isochrone(data_dir: Path) -> None:
    result = runner.invoke(app, ["import", str(ANDORRA), "--name", "ad", "--json"])
    assert result.exit_code == 0, result.output
    info = json.loads(runner.invoke(app, ["info", "ad", "--json"]).stdout)
    assert info["modes"]["road"]["nodes"] > 1000 and info["posts"]["border_crossing"] >= 1
    posts = json.loads(runner.invoke(app, ["posts", "ad", "--json"]).stdout)
    assert {"id", "kind", "lat", "lon", "mode"} <= set(posts[0])
    assert len(posts) == sum(info["posts"].values())
    iso = runner.invoke(
        app, ["isochrone", "ad", "--from", "42.5078,1.5211", "--minutes", "10", "--geojson"]
    )
    assert iso.exit_code == 0, iso.output
    feature = json.loads(iso.stdout)
    poly = shapely.geometry.shape(feature["geometry"])
    assert poly.is_valid and poly.contains(shapely.Point(1.5211, 42.5078))
    cap = runner.invoke(app, ["isochrone", "ad", "--from", "42.5078,1.5211", "--minutes", "10"])
    pairs = cap.stdout.split()
    assert pairs[0] == pairs[-1] and len(pairs) <= 100
    rank = runner.invoke(
        app,
        [
            "rank",
            "ad",
            "--from",
            "42.5078,1.5211",
            "--elapsed-minutes",
            "5",
            "--budget",
            "3",
            "--json",
        ],
    )
    assert len(json.loads(rank.stdout)) == 3


def test_corridors_command(data_dir: Path) -> None:
    result = runner.invoke(
        app, ["import-corridors", str(BUNDLED_CORRIDORS["dprk"]), "--name", "dprk2"]
    )
    assert result.exit_code == 0 and "dprk2" in result.stdout
    assert json.loads(runner.invoke(app, ["info", "dprk2", "--json"]).stdout)["exits"]


@pytest.mark.parametrize(
    "args",
    [
        ["info", "missing"],
        ["import", "/nonexistent.osm.pbf", "--name", "x"],
        ["isochrone", "dprk", "--from", "nonsense", "--minutes", "5"],
        ["isochrone", "dprk", "--from", "0,0", "--minutes", "5"],
    ],
)
def test_errors_are_messages_not_tracebacks(data_dir: Path, args: list[str]) -> None:
    result = runner.invoke(app, args)
    assert result.exit_code == 1
    assert "error:" in result.stderr and "Traceback" not in result.output


@pytest.mark.parametrize("minutes", ["1e309", "inf", "1e9"])
@pytest.mark.parametrize("command", ["isochrone", "rank"])
def test_non_finite_or_absurd_minutes_are_refused(
    data_dir: Path, command: str, minutes: str
) -> None:
    """An infinite or absurdly long time is a mistake, not "no limit": one line, exit 1."""
    option = "--minutes" if command == "isochrone" else "--elapsed-minutes"
    result = runner.invoke(app, [command, "dprk", "--from", "40.96,129.33", option, minutes])
    assert result.exit_code == 1, result.output
    assert result.stderr.count("\n") == 1 and f"error: {option} must be" in result.stderr
    assert result.stdout == ""


DPRK = load_corridors(BUNDLED_CORRIDORS["dprk"])


def test_posts_csv_snaps_by_mode(tmp_path: Path) -> None:
    path = tmp_path / "posts.csv"
    path.write_text(
        "id,kind,lat,lon,name\nkj,station,40.9642,129.3278,Kilju station\n"
        "cp1,checkpoint,40.97,129.33,\n",
        encoding="utf-8",
    )
    posts = read_posts_csv(path, DPRK)
    assert [p.post_id for p in posts] == ["kj", "cp1"]
    assert posts[0].mode == Mode.RAIL and posts[0].kind == PostKind.STATION
    assert DPRK.node_names[posts[0].node].startswith("Kilju")
    assert posts[1].mode == Mode.ROAD and posts[1].name == "cp1"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("id,kind,lat\nx,station,40\n", "missing column"),
        ("id,kind,lat,lon\nx,castle,40.96,129.33\n", "unknown kind"),
        ("id,kind,lat,lon\nx,station,north,129.33\n", "not numbers"),
        ("id,kind,lat,lon\nx,station,10.0,10.0\n", "km from the nearest"),
        ("id,kind,lat,lon\nx,patrol,40.96,129.33\nx,patrol,40.96,129.33\n", "duplicate id"),
        ("id,kind,lat,lon\n", "no posts"),
    ],
)
def test_posts_csv_errors(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "p.csv"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(NetworkImportError, match=message):
        read_posts_csv(path, DPRK)
