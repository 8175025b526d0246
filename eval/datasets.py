"""Which faces ``zoo eval --dataset`` means, with errors that say exactly what is missing."""

from __future__ import annotations

from pathlib import Path

GENERIC_STEMS = {"faces", "dataset", "data", "test", "eval"}


class EvalDatasetError(ValueError):
    """A dataset argument or folder that cannot be evaluated; one line saying what to fix."""


def dataset_label(path: Path) -> str:
    """A short name for a dataset YAML: its stem, or its folder's name when the stem is generic."""
    path = Path(path)
    return path.parent.resolve().name if path.stem in GENERIC_STEMS else path.stem


def _missing_images(samples: list, folder: Path) -> None:
    missing = [s.image_path for s in samples if not Path(s.image_path).is_file()]
    if missing:
        names = ", ".join(Path(p).name for p in missing[:3])
        raise EvalDatasetError(f"{folder}: {len(missing)} annotation file(s) have no image beside them (e.g. {names}); "
                               "each annotation needs its image with the same name")


def load_faces(dataset: str, root: Path | None, split: str) -> tuple[str, str, list]:
    """(dataset label, split label, samples) for synth, facesynthetics, 300w or a dataset YAML."""
    from zoo.data.formats import DatasetError, load_dataset_yaml, read_300w, read_facesynthetics

    try:
        if dataset == "synth":
            from zoo.synth.generate import default_dataset, results_label

            return results_label(), split, load_dataset_yaml(default_dataset(), split)
        if dataset in ("facesynthetics", "300w"):
            if root is None:
                raise EvalDatasetError(f"--dataset {dataset} needs --root DIR: the folder that holds the "
                                       + ("FaceSynthetics images (000000.png + 000000_ldmks.txt)" if dataset == "facesynthetics"
                                          else "300-W images and their .pts files"))
            root = Path(root)
            if not root.is_dir():
                raise EvalDatasetError(f"--root {root}: no such folder")
            if dataset == "facesynthetics":
                if not any(root.glob("*_ldmks.txt")):
                    raise EvalDatasetError(f"{root}: no *_ldmks.txt files; FaceSynthetics is 000000.png + 000000_ldmks.txt "
                                           "(70 lines 'x y') in one folder")
                samples = read_facesynthetics(root)
            else:
                pts = sorted(root.rglob("*.pts"))
                if not pts:
                    raise EvalDatasetError(f"{root}: no .pts files (searched subfolders too); 300-W is NAME.jpg|png + NAME.pts "
                                           "with 68 1-based points")
                samples = read_300w(pts)
            _missing_images(samples, root)
            return dataset, "all", samples
        path = Path(dataset)
        if path.suffix.lower() in (".yaml", ".yml"):
            if not path.is_file():
                raise EvalDatasetError(f"{path}: no such dataset YAML")
            return dataset_label(path), split, load_dataset_yaml(path, split)
    except DatasetError as e:
        raise EvalDatasetError(str(e)) from None
    raise EvalDatasetError(f"unknown dataset {dataset!r}: use synth, facesynthetics, 300w or a dataset YAML path")
