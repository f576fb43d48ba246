"""One self-describing run folder per run, written atomically, and read back.

A run folder holds ``summary.csv``, ``replications.parquet``, ``customers.parquet`` (when
customers were kept), ``manifest.json`` and ``scenario.resolved.yaml``.  It is written into a
temporary sibling folder and renamed into place only when complete, so a crash or Ctrl-C never
leaves a half-written folder, and an older folder of the same name is replaced only after the
new one is whole.  Imports the runner's ``Results`` type only; never the engines.
"""

from __future__ import annotations

import json
import os
import uuid
import shutil
import uuid
from pathlib import Path

import pandas as pd
import yaml

from queue_sim.runner import Results

DEFAULT_ROOT = Path("results")
FILES = ("summary.csv", "replications.parquet", "customers.parquet", "manifest.json",
         "scenario.resolved.yaml")


def default_run_dir(results: Results, root: str | Path = DEFAULT_ROOT) -> Path:
    """``results/<scenario.name>/``."""
    return Path(root) / results.scenario_name


def write_run_dir(results: Results, out_dir: str | Path | None = None) -> Path:
    """Write a run folder atomically.

    Parameters
    ----------
    results
        What ``simulate`` returned.
    out_dir
        The folder to create (or replace); default ``results/<scenario.name>/``.

    Returns
    -------
    pathlib.Path
        The folder written.

    Notes
    -----
    The files go into ``.<name>.tmp-<random>`` next to ``out_dir`` first.  Then an existing
    ``out_dir`` is moved aside, the new folder renamed into place and the old one deleted.  On
    any failure the temporary folder is removed and an existing ``out_dir`` is left untouched
    (or put back).
    """
    final = Path(out_dir) if out_dir is not None else default_run_dir(results)
    return write_folder_atomically(final, lambda folder: _write_files(results, folder))


def write_folder_atomically(final: str | Path, write) -> Path:  # noqa: ANN001 - write(folder)
    """Create or replace folder ``final`` whole: ``write(tmp)`` fills a temporary sibling that
    is renamed into place only once complete (see ``write_run_dir``)."""
    final = Path(final)
    final.parent.mkdir(parents=True, exist_ok=True)
    token = uuid.uuid4().hex[:8]
    tmp = final.parent / f".{final.name}.tmp-{token}"
    old = final.parent / f".{final.name}.old-{token}"
    try:
        tmp.mkdir()
        write(tmp)
        if final.exists():
            os.replace(final, old)
            try:
                os.replace(tmp, final)
            except BaseException:
                os.replace(old, final)
                raise
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, final)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return final


def _write_files(results: Results, folder: Path) -> None:
    results.summary.to_csv(folder / "summary.csv", index=False)
    results.replications.to_parquet(folder / "replications.parquet", index=False)
    if results.customers is not None:
        results.customers.to_parquet(folder / "customers.parquet", index=False)
    (folder / "manifest.json").write_text(json.dumps(results.manifest, indent=2, default=str)
                                          + "\n")
    scenario = results.manifest.get("scenario", {})
    (folder / "scenario.resolved.yaml").write_text(
        yaml.safe_dump(scenario, sort_keys=False, allow_unicode=True))


def read_results(path: str | Path) -> Results:
    """Read a run folder written by ``write_run_dir``.

    Raises
    ------
    FileNotFoundError
        When ``path`` lacks ``summary.csv``, ``replications.parquet`` or ``manifest.json``.
    """
    path = Path(path)
    for name in ("summary.csv", "replications.parquet", "manifest.json"):
        if not (path / name).exists():
            raise FileNotFoundError(f"{path} is not a run folder: {name} is missing")
    summary = pd.read_csv(path / "summary.csv", keep_default_na=False,
                          na_values=["", "NaN", "nan"],
                          dtype={"scope": str, "name": str, "metric": str})
    customers_path = path / "customers.parquet"
    return Results(
        summary=summary,
        replications=pd.read_parquet(path / "replications.parquet"),
        customers=pd.read_parquet(customers_path) if customers_path.exists() else None,
        manifest=json.loads((path / "manifest.json").read_text()),
    )



def atomic_write(path: str | Path, write) -> Path:  # noqa: ANN001 - write(tmp_path)
    """Write ``path`` through a temporary sibling renamed into place (never half a file)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp-{uuid.uuid4().hex[:8]}")
    try:
        write(tmp)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path
