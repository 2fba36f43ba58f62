"""The worker's model, and moving to a newer version without a restart.

The trainer publishes each version with an atomic rename (model/checkpoint.py), so a version
directory with a manifest is complete. Each worker checks the models folder every
`reload_interval` seconds in a background thread (a directory listing; cheap) and on
`POST /v1/admin/reload`; a newer version is loaded and verified *beside* the one serving, then
swapped in with one reference assignment. A request reads the reference once at its start, so
every response is computed entirely by one version and no request waits for or fails on a
load. A float32 version's weights are then pointed at the shared memory map of its file
(model.checkpoint.share_weights), so all workers read one copy. A version that fails to load is logged once with the
reason and skipped; the old one
keeps serving.
"""
from __future__ import annotations

import logging
import threading
from pathlib import Path

from model import CheckpointError, Predictor, list_versions, load_version, quantize_int8, share_weights
from service import metrics

log = logging.getLogger("service")


class ModelHolder:
    def __init__(self, models_dir: Path, reload_interval: float = 0.0, quantize: bool = False) -> None:
        self.models_dir = Path(models_dir)
        self.quantize = quantize  # int8 weights: faster, but state tokens agree with whole texts less exactly
        self.predictor: Predictor | None = None
        self.refused: dict[str, str] = {}  # version → why it cannot be served
        self._lock = threading.Lock()  # one load at a time (poller and admin route)
        self._stop = threading.Event()
        self.check()
        if reload_interval > 0:
            thread = threading.Thread(target=self._poll, args=(reload_interval,), name="model-reload", daemon=True)
            thread.start()

    @property
    def error(self) -> str | None:
        """Why no model is served, or None."""
        if self.predictor is not None:
            return None
        if self.refused:
            return "no usable model version: " + "; ".join(self.refused.values())
        return f"no model version in {self.models_dir}; train one with `make retrain`"

    def check(self) -> bool:
        """Serve the newest version that loads, if it is newer than the one serving; True if swapped."""
        with self._lock:
            current = self.predictor.version if self.predictor else None
            for version in reversed(list_versions(self.models_dir)):
                if version == current:
                    break  # nothing newer can be served
                if version in self.refused:
                    continue
                try:
                    loaded = load_version(self.models_dir / version)
                    if self.quantize:
                        loaded.model = quantize_int8(loaded.model)
                    else:  # one copy of the weights for all workers (model/checkpoint.py)
                        share_weights(loaded)
                    predictor = Predictor(loaded)
                except (CheckpointError, ValueError) as e:  # ValueError: cache settings or n-gram file that do not load
                    self.refused[version] = str(e)
                    log.error("refusing model version %s, still serving %s: %s", version, current, e)
                    metrics.RELOADS.labels("refused").inc()
                    continue
                self.predictor = predictor  # the swap: one reference assignment
                metrics.set_served_version(version, current)
                metrics.RELOADS.labels("swapped").inc()
                log.info("now serving model %s (was %s) from %s", version, current, self.models_dir)
                return True
            metrics.RELOADS.labels("unchanged").inc()
            return False

    def _poll(self, interval: float) -> None:
        while not self._stop.wait(interval):
            try:
                self.check()
            except Exception:  # a listing or I/O error must not end the poller
                log.exception("model reload check failed")

    def stop(self) -> None:
        self._stop.set()
