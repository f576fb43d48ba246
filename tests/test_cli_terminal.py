"""queue-sim run on a terminal: a progress bar on stderr and a rich table; neither when the
output goes to a file or a pipe (issue 2: "Long runs show a progress bar on a terminal")."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from queue_sim import cli
from tests.test_cli import workdir  # noqa: F401 - the scratch folder with base.yaml

ARGS = ["run", "base.yaml", "--out", "out", "--set", "run.replications=3"]


def run_as_if(capsys: pytest.CaptureFixture, monkeypatch: pytest.MonkeyPatch,
              terminal: bool) -> tuple[str, str]:
    monkeypatch.setattr(sys.stdout, "isatty", lambda: terminal)
    monkeypatch.setattr(sys.stderr, "isatty", lambda: terminal)
    assert cli.main(ARGS) == 0
    return capsys.readouterr()


def test_terminal_gets_a_progress_bar_and_a_rich_table(workdir: Path, capsys,  # noqa: F811, ANN001
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    out, err = run_as_if(capsys, monkeypatch, terminal=True)
    assert "tiny" in err and "/3" in err and "rep" in err   # tqdm: label, total, unit
    assert "mean wait in queue" in out and "━" in out         # rich's table rule
    assert (workdir / "out" / "summary.csv").exists()


def test_pipe_gets_plain_text_and_no_bar(workdir: Path, capsys,  # noqa: F811, ANN001
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    out, err = run_as_if(capsys, monkeypatch, terminal=False)
    assert err == ""
    assert "mean wait in queue" in out and "━" not in out and "-----" in out


def test_no_progress_flag_wins_on_a_terminal(workdir: Path, capsys,  # noqa: F811, ANN001
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)
    assert cli.main([*ARGS, "--no-progress"]) == 0
    assert capsys.readouterr().err == ""
