"""Intent classifier at run time: load a trained model directory once, predict batches.

A model directory holds a sentence-transformers encoder (mean pooling, normalised),
`head.safetensors` (a linear layer over the embedding) and `manifest.json` with the label
map, the out-of-scope label and the confidence threshold chosen on validation data.
`IntentClassifier.save` writes that directory and `IntentClassifier.load` reads it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from assistant.errors import ModelError
from kb.manifest import KINDS, read_manifest, unreadable_message, verify_files, write_manifest

HEAD_FILE = "head.safetensors"


@dataclass
class IntentPrediction:
    """The classifier's answer for one text."""

    label: str  # predicted intent, or the out-of-scope label
    confidence: float  # probability of the best in-scope intent (or of oos when that class wins)
    top: list[tuple[str, float]] = field(default_factory=list)  # top-k (label, probability)
    out_of_scope: bool = False  # True when label is the out-of-scope label


def decide(probs: np.ndarray, labels: list[str], oos_label: str, threshold: float, k: int = 3):
    """Turn class probabilities (N, C) into predictions with the out-of-scope rule.

    Out of scope when the oos class (if trained) wins, or when the best in-scope
    probability is below `threshold`.

    >>> decide(np.array([[0.2, 0.8]]), ["a", "b"], "oos", 0.5)[0].label
    'b'
    """
    oos_idx = labels.index(oos_label) if oos_label in labels else -1
    preds = []
    for row in probs:
        top_idx = np.argsort(-row)[:k]
        top = [(labels[i], float(row[i])) for i in top_idx]
        best = int(top_idx[0])
        if best == oos_idx:
            preds.append(IntentPrediction(oos_label, float(row[best]), top, True))
            continue
        conf = float(row[best])
        if conf < threshold:
            preds.append(IntentPrediction(oos_label, conf, top, True))
        else:
            preds.append(IntentPrediction(labels[best], conf, top, False))
    return preds


class IntentClassifier:
    """A trained intent model.

    >>> clf = IntentClassifier.load("models/intent")          # doctest: +SKIP
    >>> clf.predict(["where's my parcel"])[0].label           # doctest: +SKIP
    'order_status'
    """

    def __init__(self, encoder, weight, bias, manifest: dict, path: Path | None = None) -> None:
        """`manifest` needs "labels" (the order of the head's rows); "oos_label" and
        "threshold" default to "oos" and 0. `path`: where it was loaded from (None: not
        saved)."""
        self.encoder = encoder
        # the head as float32 arrays (C, H) and (C,): the runtime computes it with numpy
        self.weight = _as_array(weight)
        self.bias = _as_array(bias)
        self.manifest = manifest
        self.path = path
        self.labels: list[str] = list(manifest["labels"])
        self.oos_label: str = manifest.get("oos_label", "oos")
        self.threshold: float = float(manifest.get("threshold", 0.0))

    @classmethod
    def load(cls, model_dir: str | Path, precision: str = "auto") -> IntentClassifier:
        """Load a model directory; `precision` as in `kb.encoder.resolve_precision`."""
        from safetensors.numpy import load_file

        from kb.encoder import load_encoder

        path = Path(model_dir)
        manifest = read_manifest(path, "intent")
        verify_files(path, manifest, "intent")  # sizes and sha256 recorded at training
        fix = KINDS["intent"].fix.format(dir=path)
        head_file = path / HEAD_FILE
        if not head_file.is_file():
            raise ModelError(f"{head_file}: missing classifier head: {fix}.")
        try:
            head = load_file(str(head_file))
            weight, bias = head["weight"], head["bias"]
        except PermissionError:
            raise ModelError(unreadable_message(head_file, path)) from None
        except Exception as exc:  # noqa: BLE001 - safetensors raises its own error types
            raise ModelError(f"{head_file} is damaged ({exc}): {fix}.") from None
        if weight.ndim != 2 or bias.shape != (weight.shape[0],):
            raise ModelError(
                f"{head_file} is damaged (weight {tuple(weight.shape)}, bias "
                f"{tuple(bias.shape)}): {fix}."
            )
        labels = manifest["labels"]
        if not isinstance(labels, list) or not all(isinstance(x, str) for x in labels):
            raise ModelError(f"{path / 'manifest.json'}: 'labels' is not a list of names: {fix}.")
        if weight.shape[0] != len(labels):
            raise ModelError(
                f"{head_file}: head has {weight.shape[0]} classes but the manifest lists "
                f"{len(labels)} labels. The directory is inconsistent: {fix}."
            )
        max_length = manifest.get("config", {}).get("max_length")
        try:
            encoder = load_encoder(path, precision=precision, max_length=max_length)
        except ModelError as exc:
            raise ModelError(f"{exc} {fix[0].upper()}{fix[1:]}.") from None
        if weight.shape[1] != encoder.dim:
            raise ModelError(
                f"{head_file}: head width {weight.shape[1]} != encoder width {encoder.dim}."
            )
        return cls(encoder, weight, bias, manifest, path)

    def save(self, model_dir: str | Path) -> dict:
        """Write the model so that `load` reads it back: the encoder (safetensors, plus the
        sentence-transformers files), the head and `manifest.json`; returns the manifest.

        Weights are written in the precision they are held in (float32 after training). Give
        a new or empty directory: files already there are overwritten, not removed (the
        trainers replace a model safely through `training.output`)."""
        from safetensors.numpy import save_file

        out = Path(model_dir)
        out.mkdir(parents=True, exist_ok=True)
        self.encoder.save(out)
        save_file({"weight": self.weight, "bias": self.bias}, str(out / HEAD_FILE))
        fields = {k: v for k, v in self.manifest.items() if k not in ("kind", "format_version")}
        return write_manifest(out, "intent", **fields)

    @property
    def version(self) -> str:
        """A short id of this model (data fingerprint + training time), logged with every turn."""
        return f"intent:{self.manifest.get('trained_at', '?')}"

    def logits_from_embeddings(self, emb: np.ndarray) -> np.ndarray:
        return emb @ self.weight.T + self.bias

    def probs(self, texts: list[str], batch_size: int = 64) -> np.ndarray:
        """Class probabilities (N, C) in the order of `self.labels`."""
        emb = self.encoder.encode(texts, batch_size=batch_size)
        logits = self.logits_from_embeddings(emb)
        logits -= logits.max(axis=1, keepdims=True)
        e = np.exp(logits)
        return e / e.sum(axis=1, keepdims=True)

    def predict(self, texts: list[str], k: int = 3) -> list[IntentPrediction]:
        """Predict a batch: label (or out-of-scope), confidence and top-k."""
        if not texts:
            return []
        return decide(self.probs(texts), self.labels, self.oos_label, self.threshold, k)


def _as_array(tensor) -> np.ndarray:
    """A contiguous float32 copy of an array or a torch tensor (the trainer's head)."""
    if hasattr(tensor, "detach"):
        tensor = tensor.detach().float().cpu().numpy()
    return np.ascontiguousarray(tensor, dtype=np.float32)
