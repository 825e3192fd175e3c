"""`avssl demo` end to end at a tiny size: every stage runs and the report has its documented schema."""

from __future__ import annotations

import json

from avssl.demo import DemoData, run_demo

PNG = b"\x89PNG\r\n\x1a\n"


def test_tiny_demo_writes_the_report(tmp_path):
    metrics = run_demo(tmp_path, size=DemoData(train_per_class=2, test_per_class=1, seconds=2.5), workers=0,
                       progress=False, overrides=("train.max_epochs=1", "data.batch_size=8", "data.num_workers=0",
                                                  "method.num_negatives=16", "cma.train.max_epochs=1",
                                                  "cma.method.cma.num_positives=2",
                                                  "cma.method.cma.num_negatives_within=8"))
    saved = json.loads((tmp_path / "metrics.json").read_text())
    assert saved["counts"] == {"train": 20, "test": 10}
    assert abs(saved["chance_top1"] - 0.1) < 1e-9
    for stage in ("untrained", "avid", "cma"):
        for key in ("v2v_top1", "v2v_top5", "a2v_top1", "a2v_top5"):
            assert 0.0 <= saved["stages"][stage][key] <= 1.0
        assert saved["stages"][stage]["a2v_top5"] >= saved["stages"][stage]["a2v_top1"]
    assert saved["wall_time_s"] > 0 and metrics["stages"] == saved["stages"]
    assert saved["cma_config"]["method"]["cma"]["num_positives"] == 2 and saved["config"]["method"]["name"] == "avid"
    assert saved["cma_config"]["method"]["cma"]["init_from"].endswith("train/checkpoints/last.ckpt")
    for png in ("loss_curve.png", "recall_at_k.png", "retrieval_grid.png"):
        assert (tmp_path / png).read_bytes()[:8] == PNG
    assert "a→v top-1" in (tmp_path / "summary.md").read_text()
