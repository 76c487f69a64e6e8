"""The policy's calibration: thresholds chosen on validation dialogues, kept with the models.

`assistant calibrate` (training/calibrate.py) replays validation dialogues, chooses the reply,
KB and clarify thresholds that reach a target answer precision with the most coverage, and
writes them into the models directory:

    <models>/calibration/manifest.json    kind "calibration": thresholds, target, the
                                          coverage/precision table, the data's fingerprint,
                                          the model versions it was chosen for

`DialogueEngine.load` reads it (`load_calibration`) and applies the thresholds over the config
defaults (`EngineConfig.calibrated`; settings a config file gives still win). A calibration
chosen for other models (retrained since) is not applied: its thresholds would be for scores
those models no longer give. Without a calibration the config defaults answer.
"""

from __future__ import annotations

from pathlib import Path

from assistant.config import CALIBRATED, threshold_max
from assistant.errors import ModelError
from kb.manifest import KINDS, read_manifest, write_manifest

CALIBRATION_DIR = "calibration"  # inside the models directory


def calibration_dir(models_dir: str | Path) -> Path:
    """Where the calibration of the models in `models_dir` lives."""
    return Path(models_dir) / CALIBRATION_DIR


def load_calibration(models_dir: str | Path) -> dict | None:
    """The calibration manifest of `models_dir`, checked; None when there is none.

    Raises ModelError naming the file when it exists but is damaged or holds a threshold
    that is not a number in [-1, 1] ([-1, 2] for the KB bars).
    """
    path = calibration_dir(models_dir)
    if not path.exists():
        return None
    manifest = read_manifest(path, "calibration")
    thresholds = manifest["thresholds"]
    fix = KINDS["calibration"].fix.format(dir=path)
    if not isinstance(thresholds, dict):
        raise ModelError(f"{path / 'manifest.json'}: 'thresholds' is not an object: {fix}.")
    for name, value in thresholds.items():
        number = isinstance(value, int | float) and not isinstance(value, bool)
        if name not in CALIBRATED or not number or not -1 <= value <= threshold_max(name):
            raise ModelError(
                f"{path / 'manifest.json'}: threshold {name}={value!r} is not one of "
                f"{', '.join(CALIBRATED)} with a value in [-1, 1] (KB bars: [-1, 2]): {fix}."
            )
    return manifest


def save_calibration(models_dir: str | Path, **fields) -> dict:
    """Write `<models_dir>/calibration/manifest.json` (atomically); returns what was written."""
    path = calibration_dir(models_dir)
    path.mkdir(parents=True, exist_ok=True)
    return write_manifest(path, "calibration", **fields)


def stale_reason(manifest: dict, versions: dict[str, str]) -> str | None:
    """Why a calibration does not fit the loaded models (None: it fits).

    >>> stale_reason({"models": {"intent": "intent:1"}}, {"intent": "intent:2", "ranker": "r"})
    "chosen for intent model 'intent:1', loaded 'intent:2'"
    """
    chosen = manifest.get("models") or {}
    for key in ("intent", "ranker"):
        if key in chosen and chosen[key] != versions.get(key):
            return f"chosen for {key} model {chosen[key]!r}, loaded {versions.get(key)!r}"
    return None


__all__ = [
    "CALIBRATION_DIR",
    "calibration_dir",
    "load_calibration",
    "save_calibration",
    "stale_reason",
]
