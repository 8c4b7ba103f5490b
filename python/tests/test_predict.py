"""Predictions and evaluation on numpy arrays, without writing into the model's folder."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import genviz


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> genviz.Training:
    return genviz.train(steps=400, out=tmp_path_factory.mktemp("p") / "run", progress=False)


def test_predictions_score_the_accuracy_genviz_reports(run: genviz.Training) -> None:
    with np.load(run.dir / "data.npz") as z:
        x, y = z["x_test"], z["y_test"]
    before = sorted(p.name for p in run.dir.iterdir())
    classes = run.model.predict(x)
    assert classes.shape == (len(x),) and classes.dtype == np.uint32
    accuracy = float((classes == y).mean())
    assert accuracy == pytest.approx(genviz.eval(run.model)["test"]["accuracy"], abs=1e-12)
    assert sorted(p.name for p in run.dir.iterdir()) == before, "nothing written into the run"


def test_eval_on_numpy_arrays_equals_eval_on_the_same_file(run: genviz.Training) -> None:
    with np.load(run.dir / "data.npz") as z:
        arrays = {k: z[k] for k in z.files}
    assert genviz.eval(run.model, data=arrays) == genviz.eval(run.model, data=run.dir / "data.npz") | {}


def test_predict_refuses_rows_of_the_wrong_width(run: genviz.Training) -> None:
    with pytest.raises(ValueError, match="x has 3 features per row, but model .* reads 2"):
        run.model.predict(np.zeros((4, 3)))
    with pytest.raises(ValueError, match=r"x: expected shape \[examples, features\]"):
        run.model.predict(np.zeros(4))
