"""bench/textbook_lstm.py, the reference loop of the speed benchmark, runs and learns."""
import json
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent


def test_the_textbook_loop_learns_a_tiny_text(tmp_path):
    text = "the clouds are in the sky .\nI grew up in France . I speak fluent French .\n" * 150
    for split in ("train", "valid", "test"):
        (tmp_path / f"{split}.txt").write_text(text)
    out = tmp_path / "curve.json"
    subprocess.run([sys.executable, str(ROOT / "bench" / "textbook_lstm.py"), "--data", str(tmp_path), "--minutes", "0.15",
                    "--validate-minutes", "0.05", "--lr", "5", "--threads", "1", "--json", str(out)],
                   check=True, timeout=120, capture_output=True)
    result = json.loads(out.read_text())
    curve = [point["valid_perplexity"] for point in result["curve"]]
    assert result["vocabulary"] == 15  # 13 words, <eos> and <unk>
    # An untrained model scores ~15 (the vocabulary's size). A fast machine learns this text before the first
    # validation, so the curve may be flat at 1.0: it must not rise, and it must end far below 15.
    assert len(curve) >= 2 and curve[-1] <= curve[0] and curve[-1] < 5
