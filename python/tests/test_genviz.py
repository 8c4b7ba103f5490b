"""The Python package against the command line: same seeds, same files, bit for bit.

The command-line binary is ``target/debug/genviz`` (built by ``cargo test --workspace``), or the
one named by ``GENVIZ_BIN``. Without it these comparisons fail under CI and are skipped
elsewhere.
"""

from __future__ import annotations

import filecmp
import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

import genviz

REPO = Path(__file__).resolve().parents[2]


def genviz_bin() -> Path:
    path = Path(os.environ.get("GENVIZ_BIN", REPO / "target" / "debug" / "genviz"))
    if not path.is_file():
        if os.environ.get("CI"):
            pytest.fail(f"{path}: the genviz binary is missing (run cargo test --workspace first)")
        pytest.skip(f"{path} is not built")
    return path


def cli(*args: object) -> None:
    subprocess.run([str(genviz_bin()), *map(str, args)], check=True, capture_output=True)


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> genviz.Training:
    """The paper's clean swiss-roll net, 600 steps, trained from Python."""
    out = tmp_path_factory.mktemp("train") / "run"
    return genviz.train(steps=600, out=out, progress=False)


def test_training_from_python_equals_the_command_line(trained: genviz.Training, tmp_path: Path) -> None:
    cli("train", "--steps", 600, "--out", tmp_path / "cli")
    assert filecmp.cmp(trained.dir / "model.safetensors", tmp_path / "cli" / "model.safetensors", shallow=False)
    assert trained.results["final"]["train_acc"] > 0.6
    assert trained.record["command"] == "train"
    assert trained.record["invocation"].startswith("genviz.train(")
    metrics = trained.metrics
    assert metrics["step"][-1] == 600


def test_a_surface_from_python_equals_the_command_line_bit_for_bit(trained: genviz.Training, tmp_path: Path) -> None:
    surface = genviz.surface(trained.model, x=(-1, 1, 9), y="-1:1:7", out=tmp_path / "py", progress=False)
    cli("surface", trained.dir, "--x", "-1:1:9", "--y", "-1:1:7", "--out", tmp_path / "cli")
    assert filecmp.cmp(tmp_path / "py" / "surface.npz", tmp_path / "cli" / "surface.npz", shallow=False)
    assert surface.train_loss.shape == (7, 9)
    assert surface.xs.shape == (9,) and surface.ys is not None and surface.ys.shape == (7,)
    assert np.isfinite(surface.train_loss).all()
    centre = surface.train_loss[3, 4]
    assert centre == surface.train_loss.min(), "the trained model sits at the lowest point"
    # .save writes the command line's files; .plot the command line's figure.
    saved = surface.save(tmp_path / "copy")
    assert {p.name for p in (tmp_path / "cli").iterdir()} <= {p.name for p in saved.iterdir()}
    png = surface.plot(tmp_path / "figure.png")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_basin_and_hessian_equal_the_command_line(trained: genviz.Training, tmp_path: Path) -> None:
    basin = genviz.basin(trained.dir, rays=12, out=tmp_path / "basin-py", progress=False)
    cli("basin", trained.dir, "--rays", 12, "--out", tmp_path / "basin-cli")
    assert filecmp.cmp(tmp_path / "basin-py" / "basin.npz", tmp_path / "basin-cli" / "basin.npz", shallow=False)
    assert basin.radii.shape == (24,) and basin.median_radius > 0
    hessian = genviz.hessian(trained.dir, top_k=2, lanczos=20, out=tmp_path / "h-py", progress=False)
    cli("hessian", trained.dir, "--top-k", 2, "--lanczos", 20, "--out", tmp_path / "h-cli")
    assert filecmp.cmp(tmp_path / "h-py" / "hessian.npz", tmp_path / "h-cli" / "hessian.npz", shallow=False)
    assert hessian.eigenvalues.shape == (2,) and hessian.eigenvalues[0] > 0


def test_an_interpolation_between_two_runs_equals_the_command_line(trained: genviz.Training, tmp_path: Path) -> None:
    other = genviz.train(steps=300, seed=7, out=tmp_path / "other", progress=False)
    line = genviz.interpolate(trained.model, other.model, x="-0.5:1.5:21", out=tmp_path / "py", progress=False)
    cli("interpolate", trained.dir, other.dir, "--x", "-0.5:1.5:21", "--out", tmp_path / "cli")
    assert filecmp.cmp(tmp_path / "py" / "surface.npz", tmp_path / "cli" / "surface.npz", shallow=False)
    assert line.train_loss.shape == (21,)
    assert line.plot().name == "interpolate_1d.png"


def test_numpy_data_gives_the_same_surface_as_the_same_data_in_a_file(trained: genviz.Training, tmp_path: Path) -> None:
    with np.load(trained.dir / "data.npz") as z:
        arrays = {k: z[k] for k in z.files}
    # float64 features and int32 labels are converted, as a notebook's arrays would be.
    data = (arrays["x_train"].astype(np.float64), arrays["y_train"].astype(np.int32), arrays["x_test"], arrays["y_test"])
    surface = genviz.surface(trained.dir, x="-1:1:5", data=data, out=tmp_path / "py", progress=False)
    cli("surface", trained.dir, "--x", "-1:1:5", "--data", trained.dir / "data.npz", "--out", tmp_path / "cli")
    assert filecmp.cmp(tmp_path / "py" / "surface.npz", tmp_path / "cli" / "surface.npz", shallow=False)
    assert surface.train_loss.shape == (5,)
    assert json.loads((tmp_path / "py" / "run.json").read_text())["config"]["grid"]["data"]["data"].endswith("input_data.npz")


@pytest.mark.parametrize(
    "data, message",
    [
        ((np.zeros((10, 2), np.float32), np.zeros(10, np.float32), np.zeros((4, 2)), np.zeros(4, int)), "y_train: expected integer class labels"),
        ((np.zeros(10), np.zeros(10, int), np.zeros((4, 2)), np.zeros(4, int)), "x_train: expected shape [examples, features...]"),
        ((np.zeros((10, 2)), np.zeros(9, int), np.zeros((4, 2)), np.zeros(4, int)), "y_train: 9 labels for 10 examples"),
        ((np.zeros((10, 2)), np.zeros(10, int), np.zeros((4, 3)), np.zeros(4, int)), "x_test: 3 features, but x_train has 2"),
        ((np.array([["a", "b"]]), np.zeros(1, int), np.zeros((4, 2)), np.zeros(4, int)), "x_train: expected real numbers"),
        ((np.full((2, 2), np.nan), np.zeros(2, int), np.zeros((4, 2)), np.zeros(4, int)), "x_train: holds NaN"),
        ({"x_train": np.zeros((2, 2))}, "missing y_train, x_test, y_test"),
    ],
)
def test_bad_numpy_data_raises_a_value_error_naming_the_array(trained: genviz.Training, tmp_path: Path, data: object, message: str) -> None:
    with pytest.raises(ValueError, match=message.replace("[", r"\[").replace("]", r"\]")):
        genviz.surface(trained.dir, x="-1:1:3", data=data, out=tmp_path / "bad", progress=False)


def test_data_that_does_not_fit_the_model_is_refused_by_the_library(trained: genviz.Training, tmp_path: Path) -> None:
    data = (np.zeros((6, 3)), np.zeros(6, int), np.zeros((2, 3)), np.zeros(2, int))
    with pytest.raises(RuntimeError, match="3"):
        genviz.surface(trained.dir, x="-1:1:3", data=data, out=tmp_path / "misfit", progress=False)


def test_bad_arguments_are_refused_before_anything_runs(trained: genviz.Training, tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="no such file"):
        genviz.load(tmp_path / "missing")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ValueError, match="model.safetensors"):
        genviz.load(tmp_path / "empty")
    with pytest.raises(ValueError, match="x='1:2'"):
        genviz.surface(trained.dir, x="1:2", out=tmp_path / "s")
    with pytest.raises(ValueError, match="expected finite min < max"):
        genviz.surface(trained.dir, x=(1, -1, 5), out=tmp_path / "s")
    with pytest.raises(ValueError, match="mode='fast'"):
        genviz.basin(trained.dir, mode="fast", out=tmp_path / "b")
    assert not (tmp_path / "s").exists() and not (tmp_path / "b").exists(), "nothing written"
    with pytest.raises(ValueError, match="preset `nope`"):
        genviz.train(preset="nope", out=tmp_path / "t")


def test_params_are_numpy_arrays_in_pytorch_layout(trained: genviz.Training) -> None:
    params = trained.model.params()
    weight = params["layers.0.weight"]
    assert weight.dtype == np.float32 and weight.shape == (23, 2), "Linear.weight is [out, in]"
    assert params["layers.0.bias"].shape == (23,)


def test_eval_reports_the_run_metrics(trained: genviz.Training) -> None:
    e = genviz.eval(trained.model)
    assert e["num_params"] == 3614
    assert abs(e["train"]["accuracy"] - trained.results["final"]["train_acc"]) < 1e-9


def test_progress_reaches_a_callback_and_the_gil_is_released(trained: genviz.Training, tmp_path: Path) -> None:
    events: list = []
    ticks = [0]
    stop = threading.Event()

    def spin() -> None:
        while not stop.is_set():
            ticks[0] += 1
            time.sleep(0.001)

    thread = threading.Thread(target=spin)
    thread.start()
    try:
        genviz.surface(trained.dir, x="-1:1:61", y="-1:1:61", out=tmp_path / "s", progress=lambda *e: events.append(e))
    finally:
        stop.set()
        thread.join()
    kinds = [e[0] for e in events]
    assert "stage" in kinds and "finish" in kinds, kinds
    assert ticks[0] > 10, "a Python thread ran while the surface was computed"


LONG_SURFACE = """
import sys, genviz
print("started", flush=True)
genviz.surface(sys.argv[1], x="-2:2:601", y="-2:2:601", save_every=0.3, out=sys.argv[2], progress=False)
print("finished", flush=True)
"""


def test_ctrl_c_interrupts_a_long_surface_promptly_and_a_second_call_resumes(trained: genviz.Training, tmp_path: Path) -> None:
    out = tmp_path / "long"
    proc = subprocess.Popen([sys.executable, "-c", LONG_SURFACE, str(trained.dir), str(out)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "started"
    time.sleep(1.5)
    assert proc.poll() is None, "the surface finished before it could be interrupted"
    sent = time.monotonic()
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    waited = time.monotonic() - sent
    assert proc.returncode != 0
    assert "KeyboardInterrupt" in err, err
    assert waited < 3.0, f"took {waited:.1f} s to stop"
    # The periodic saves hold part of the grid; calling again computes only the rest and gives
    # the file an uninterrupted command writes.
    notes: list = []
    resumed = genviz.surface(trained.dir, x="-2:2:601", y="-2:2:601", save_every=0.3, out=out, progress=lambda *e: notes.append(e))
    assert any("resum" in e[3].lower() for e in notes if e[0] in ("note", "finish", "log")), notes
    assert np.isfinite(resumed.train_loss).all()
    cli("surface", trained.dir, "--x", "-2:2:601", "--y", "-2:2:601", "--out", tmp_path / "cli")
    assert filecmp.cmp(out / "surface.npz", tmp_path / "cli" / "surface.npz", shallow=False)


def test_from_torch_exports_a_module_genviz_evaluates(tmp_path: Path) -> None:
    torch = pytest.importorskip("torch")
    pytest.importorskip("onnx")
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(2, 8), torch.nn.ReLU(), torch.nn.Linear(8, 2))
    x = torch.randn(64, 2)
    y = (x[:, 0] > 0).long()
    model = genviz.from_torch(net, x[:4], tmp_path / "net.onnx")
    e = genviz.eval(model, data=(x.numpy(), y.numpy(), x.numpy(), y.numpy()))
    expected = torch.nn.functional.cross_entropy(net(x), y).item()
    assert abs(e["train"]["loss"] - expected) < 1e-4


def test_plane_trajectory_and_connect_equal_the_command_line(trained: genviz.Training, tmp_path: Path) -> None:
    a = genviz.train(steps=300, seed=3, checkpoint_every=50, out=tmp_path / "a", progress=False)
    b = genviz.train(steps=300, seed=4, out=tmp_path / "b", progress=False)
    plane = genviz.plane(trained.dir, a.dir, b.dir, grid=7, out=tmp_path / "plane-py", progress=False)
    cli("plane", trained.dir, a.dir, b.dir, "--grid", 7, "--out", tmp_path / "plane-cli")
    assert filecmp.cmp(tmp_path / "plane-py" / "surface.npz", tmp_path / "plane-cli" / "surface.npz", shallow=False)
    assert plane.train_loss.shape == (7, 7) and plane.plot().name == "plane_contour.png"
    path = genviz.trajectory(a.dir, num=9, out=tmp_path / "traj-py", progress=False)
    cli("trajectory", a.dir, "--num", 9, "--out", tmp_path / "traj-cli")
    assert filecmp.cmp(tmp_path / "traj-py" / "surface.npz", tmp_path / "traj-cli" / "surface.npz", shallow=False)
    assert path.train_loss.shape == (9, 9) and path.plot().name == "trajectory_contour.png"
    curve = genviz.connect(a.dir, b.dir, config={"points": 5, "grid": 0, "training": {"steps": 40}}, out=tmp_path / "conn-py", progress=False)
    cli("connect", a.dir, b.dir, "--points", 5, "--grid", 0, "--steps", 40, "--out", tmp_path / "conn-cli")
    assert filecmp.cmp(tmp_path / "conn-py" / "curve.npz", tmp_path / "conn-cli" / "curve.npz", shallow=False)
    assert curve.results["curve_max_train_loss"] > 0


def test_a_paper_figure_from_python_has_the_command_line_numbers(tmp_path: Path) -> None:
    run = genviz.paper(only=["3"], clean_steps=3000, poisoned_steps=3000, out=tmp_path / "py", progress=False)
    cli("paper", "--only", "fig3", "--clean-steps", 3000, "--poisoned-steps", 3000, "--out", tmp_path / "cli")
    ours = [(c["quantity"], c["measured"]) for c in run.results["checks"]]
    theirs = [(c["quantity"], c["measured"]) for c in json.loads((tmp_path / "cli" / "results.json").read_text())["checks"]]
    assert ours == theirs and ours
    assert (run.dir / "report.html").is_file()
    with pytest.raises(ValueError, match="no scale setting `clean_stpes`"):
        genviz.paper(only=["3"], clean_stpes=10, out=tmp_path / "bad")


def test_progress_bars_follow_the_job_stages() -> None:
    class FakeBar:
        made: list = []

        def __init__(self, total: int, desc: str, unit: str, leave: bool) -> None:
            self.total, self.desc, self.n, self.closed, self.postfix = total, desc, 0, False, ""
            FakeBar.made.append(self)

        def set_postfix_str(self, text: str, refresh: bool = True) -> None:
            self.postfix = text

        def refresh(self) -> None:
            pass

        def close(self) -> None:
            self.closed = True

        @staticmethod
        def write(text: str) -> None:
            FakeBar.made.append(text)

    bars = genviz._Bars(FakeBar)
    bars("stage", "surface", 100, "points")
    bars("update", "surface", 40, "train 99%")
    bar = FakeBar.made[0]
    assert (bar.total, bar.desc, bar.n, bar.postfix) == (100, "surface", 40, "train 99%")
    bars("note", "", 0, "resumed 40 points")
    bars("finish", "surface", 0, "done")
    assert bar.closed and bar.postfix == "done" and "resumed 40 points" in FakeBar.made
