"""Pictures of a run: training curves (loss, NME, lr) and a grid of augmented training crops.

The sample grid shows exactly what the network is fed (after cropping, augmentation and
normalisation, drawn back to pixels), which is the quickest way to spot a flipped point
order or a crop that cuts the face off.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np


def plot_curves(history: list[dict[str, Any]], path: Path) -> None:
    """curves.png: train loss, val NME (with yaw bins and extra datasets) and lr per epoch."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = [r for r in history if r["stage"] == 1]
    face = [r for r in history if r["stage"] == 2]
    with plt.rc_context({"lines.marker": "o", "lines.markersize": 3}):  # markers: a 1-epoch run still shows
        _curves(plt, rows, face, path)


def _curves(plt, rows: list[dict[str, Any]], face: list[dict[str, Any]], path: Path) -> None:
    fig, axes = plt.subplots(1, 4 if face else 3, figsize=(16 if face else 13, 3.6))
    x = list(range(1, len(rows) + 1))
    axes[0].plot(x, [r["train_loss"] for r in rows], label="train")
    axes[0].set(title="landmark loss", xlabel="epoch", yscale="log")
    nme_keys = ["val_nme"] + sorted({k for r in rows for k in r if k.startswith("nme_") or k == "val_nme_prior"})
    for key in nme_keys:
        ys = [r.get(key, math.nan) for r in rows]
        if any(not math.isnan(y) for y in ys):
            axes[1].plot(x, ys, label=key.replace("nme_", ""), lw=2 if key == "val_nme" else 1)
    # log scale: the yaw bins differ by 5x (near-profile faces shrink the inter-ocular distance), and the
    # frontal bin's late gains would be flat on a linear axis
    axes[1].set(title="NME (% inter-ocular, log)", xlabel="epoch", yscale="log")
    if axes[1].lines:
        axes[1].legend(fontsize=7)
    axes[2].plot(x, [r["lr"] for r in rows], label="step 1")
    if face:
        axes[2].plot(range(len(rows) + 1, len(rows) + len(face) + 1), [r["lr"] for r in face], label="step 2")
        fx = list(range(1, len(face) + 1))
        axes[3].plot(fx, [r["train_loss"] for r in face], label="train BCE")
        axes[3].plot(fx, [r["val_bce"] for r in face], label="val BCE")
        axes[3].plot(fx, [r["face_acc"] for r in face], label="val accuracy")
        axes[3].set(title="step 2: face score", xlabel="epoch")
        axes[3].legend(fontsize=7)
    axes[2].set(title="learning rate (end of epoch)", xlabel="epoch")
    for ax in axes:
        ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


def draw_sample(image: np.ndarray, landmarks: np.ndarray | None, is_face: bool, scale: int = 2) -> np.ndarray:
    """One normalised crop [3,S,S] back to RGB uint8, upscaled, with its landmarks as dots."""
    import cv2

    from zoo.contract import PIXEL_MEAN, PIXEL_STD
    from zoo.landmarks import CONTOURS

    rgb = np.clip(image.transpose(1, 2, 0) * PIXEL_STD + PIXEL_MEAN, 0, 255).astype(np.uint8)
    size = rgb.shape[0]
    rgb = np.ascontiguousarray(cv2.resize(rgb, (size * scale, size * scale), interpolation=cv2.INTER_NEAREST))
    if not is_face or landmarks is None:
        cv2.putText(rgb, "non-face", (4, 14), cv2.FONT_HERSHEY_SIMPLEX, 0.45, (255, 64, 64), 1, cv2.LINE_AA)
        return rgb
    pts = (landmarks + 0.5) * size * scale
    for start, stop, closed in CONTOURS:
        if stop <= len(pts):
            cv2.polylines(rgb, [pts[start:stop].round().astype(np.int32)], closed, (0, 255, 0), 1, cv2.LINE_AA)
    for k, (px, py) in enumerate(pts):
        color = (255, 0, 0) if k in (36, 45) else (255, 255, 0) if k >= 68 else (0, 255, 0)
        cv2.circle(rgb, (int(round(px)), int(round(py))), 2, color, -1, cv2.LINE_AA)
    return rgb


def plot_samples(dataset: Any, path: Path, n: int = 16, epoch: int = 0) -> None:
    """samples.png: the first ``n`` augmented training crops of ``epoch`` in a grid."""
    import cv2

    if hasattr(dataset, "set_epoch"):
        dataset.set_epoch(epoch)
    tiles = []
    for i in range(n):
        item = dataset[i]
        img = item["image"].numpy() if hasattr(item["image"], "numpy") else np.asarray(item["image"])
        lm = item["landmarks"].numpy() if hasattr(item["landmarks"], "numpy") else np.asarray(item["landmarks"])
        tiles.append(draw_sample(img, lm, bool(float(item["is_face"][0]) > 0.5)))
    if not tiles:
        return
    cols = min(4, len(tiles))
    rows = math.ceil(len(tiles) / cols)
    h, w = tiles[0].shape[:2]
    grid = np.full((rows * (h + 2), cols * (w + 2), 3), 32, np.uint8)
    for i, tile in enumerate(tiles):
        r, c = divmod(i, cols)
        grid[r * (h + 2): r * (h + 2) + h, c * (w + 2): c * (w + 2) + w] = tile
    cv2.imwrite(str(path), cv2.cvtColor(grid, cv2.COLOR_RGB2BGR))
