"""What a run shows and leaves behind while it trains: the rich progress bar and log.csv."""

from __future__ import annotations

import csv
import math
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

from zoo.fileio import atomic_open

#: log.csv columns that every run has; per-dataset NME and face-score columns follow when present.
BASE_COLUMNS = ("stage", "epoch", "lr", "train_loss", "val_nme", "nme_yaw_le30", "nme_yaw_30_40", "nme_yaw_gt40")
RATE_COLUMNS = ("img_s", "data_img_s", "model_img_s", "wait_pct", "epoch_s")


def _fmt(v: Any) -> Any:
    if isinstance(v, float):
        return "" if math.isnan(v) else ("inf" if math.isinf(v) else f"{v:.6g}")
    return v


def write_log(history: list[dict[str, Any]], path: Path) -> None:
    """Rewrite log.csv from the run's history (atomically), so a resumed run never duplicates rows."""
    extra = sorted({k for row in history for k in row} - set(BASE_COLUMNS) - set(RATE_COLUMNS))
    columns = [*BASE_COLUMNS, *extra, *RATE_COLUMNS]
    with atomic_open(path, "w", newline="") as f:
        writer = csv.DictWriter(f, columns)
        writer.writeheader()
        for row in history:
            writer.writerow({c: _fmt(row.get(c, "")) for c in columns})


class TrainProgress:
    """One bar per stage: epoch, loss, last val NME, images/s and ETA (silent when disabled)."""

    def __init__(self, enabled: bool = True, console: Console | None = None) -> None:
        self.enabled = enabled
        self.console = console or Console(stderr=True)
        self._bar: Progress | None = None
        self._task = None
        self._desc: dict[str, Any] = {}

    def start_stage(self, name: str, epochs: int, steps: int, done_epochs: int) -> None:
        if not self.enabled:
            return
        self.close()
        self._bar = Progress(
            TextColumn("[bold]{task.fields[stage]}[/] ep {task.fields[epoch]}"), BarColumn(), MofNCompleteColumn(),
            TextColumn("loss {task.fields[loss]}  NME {task.fields[nme]}  {task.fields[rate]} img/s"),
            TimeElapsedColumn(), TextColumn("ETA"), TimeRemainingColumn(), console=self.console, transient=False,
        )
        self._bar.start()
        self._epochs = epochs
        self._task = self._bar.add_task("train", total=epochs * steps, completed=done_epochs * steps, stage=name,
                                        epoch=f"{done_epochs + 1}/{epochs}", loss="-", nme="-", rate="-")
        self._epoch = done_epochs

    def step(self, loss: float, rate: float) -> None:
        if self._bar is not None:
            self._bar.update(self._task, advance=1, loss=f"{loss:.4f}", rate=f"{rate:.0f}")

    def end_epoch(self, row: dict[str, Any]) -> None:
        if self._bar is None:
            return
        self._epoch = row["epoch"]
        nme = row.get("val_nme", math.nan)
        shown = f"{nme:.3f}" if not math.isnan(nme) else f"acc {row.get('face_acc', math.nan):.3f}"
        self._bar.update(self._task, epoch=f"{min(self._epoch + 1, self._epochs)}/{self._epochs}", nme=shown)
        extras = "  ".join(f"{k[4:]} {v:.3f}" for k, v in row.items() if k.startswith("nme_") and isinstance(v, float)
                           and not math.isnan(v))
        self._bar.console.print(
            f"stage {row['stage']} epoch {row['epoch']}: loss {row['train_loss']:.5f}  val {shown}  {extras}  "
            f"{row['img_s']:.0f} img/s (model {row['model_img_s']:.0f}, waiting for data {row['wait_pct']:.0f}%)",
            highlight=False)

    def log(self, message: str) -> None:
        if self.enabled:
            self.console.print(message, highlight=False)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.stop()
            self._bar = None
