"""genviz: see and measure why neural networks generalize.

Loss surfaces (Li et al.), interpolations, basins, Hessian spectra and the figures of Huang et
al., "Understanding Generalization through Visualizations" (2019), computed by genviz's Rust
library. Every function here builds the same typed configuration the ``genviz`` command
builds, with the command's names and defaults, runs it with the GIL released, and returns a
result object: its arrays are numpy arrays, ``.save(dir)`` writes the command's files and
``.plot(path)`` the command's figure.

Models are run folders (``genviz.train``'s output), ``.safetensors`` files (genviz's, or a
PyTorch MLP saved with PyTorch's names) or ``.onnx`` files (any exported model; see
:func:`from_torch`). Data is the model's own (a run folder's ``data.npz``), a built-in set by
name (``"swiss-roll"``, ``"fashion-mnist"``, ...), a file, or numpy arrays.

A call interrupted with Ctrl-C raises ``KeyboardInterrupt`` promptly; calling it again with the
same ``out`` resumes where it stopped, as the command does.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any, Callable, Dict, List, Mapping, Optional, Sequence, Tuple, Union

import numpy as np

from . import _genviz

__version__: str = _genviz.__version__

#: The seed of the built-in data sets and evaluation subsets (gen-viz's ``-seed=1237``).
SWISS_ROLL_SEED = 1237

PathLike = Union[str, "os.PathLike[str]"]
AxisLike = Union[str, Tuple[float, float, int]]
#: numpy data: ``(x_train, y_train, x_test, y_test)`` or a mapping with those keys.
ArrayData = Union[Sequence[Any], Mapping[str, Any]]
DataLike = Union[None, str, "os.PathLike[str]", ArrayData]

__all__ = [
    "Model",
    "Run",
    "Surface",
    "Basin",
    "Hessian",
    "Training",
    "load",
    "from_torch",
    "train",
    "eval",
    "surface",
    "interpolate",
    "plane",
    "trajectory",
    "basin",
    "hessian",
    "connect",
    "paper",
    "SWISS_ROLL_SEED",
]


# ---------------------------------------------------------------------------------------------
# Models


class Model:
    """A model genviz can analyse: a run folder, a ``.safetensors`` or an ``.onnx`` file."""

    def __init__(self, path: Path):
        self.path = path

    @property
    def kind(self) -> str:
        """``"run"``, ``"safetensors"`` or ``"onnx"``."""
        if self.path.is_dir():
            return "run"
        return "onnx" if self.path.suffix == ".onnx" else "safetensors"

    @property
    def record(self) -> Optional[Dict[str, Any]]:
        """A run folder's ``run.json`` (how it was trained, and its results); else ``None``."""
        record = self.path / "run.json"
        return json.loads(record.read_text()) if record.is_file() else None

    def params(self) -> Dict[str, np.ndarray]:
        """The weights as float32 arrays under their PyTorch names and layouts
        (``Linear.weight`` is ``[out, in]``). ONNX models: use ``onnx`` to read initializers."""
        if self.kind == "onnx":
            raise ValueError(f"{self.path}: an ONNX model's weights are its initializers; read them with the onnx package")
        weights = self.path / "model.safetensors" if self.kind == "run" else self.path
        return dict(_genviz.read_tensors(str(weights)))

    def predict(self, x: Any, data: DataLike = None, *, seed: int = SWISS_ROLL_SEED) -> np.ndarray:
        """The class the model predicts for each row of ``x`` (``[n, features]``).

        ``data`` is only needed for models whose data genviz cannot find itself (ONNX files):
        it tells the input shape, as for :func:`eval`."""
        rows = np.asarray(x)
        if rows.dtype.kind not in "fiu":
            raise ValueError(f"x: expected real numbers, got dtype {rows.dtype}")
        if rows.ndim != 2:
            raise ValueError(f"x: expected shape [examples, features], got {list(rows.shape)}")
        rows = np.ascontiguousarray(rows, dtype=np.float32)
        with tempfile.TemporaryDirectory() as scratch:
            source = _source(data, Path(scratch), seed)
            return _genviz.predict(str(self.path), rows, json.dumps(source))

    def __fspath__(self) -> str:
        return str(self.path)

    def __repr__(self) -> str:
        return f"genviz.Model({str(self.path)!r}, kind={self.kind!r})"


def load(path: PathLike) -> Model:
    """A model from a run folder, a ``.safetensors`` file or an ``.onnx`` file.

    Raises ``FileNotFoundError`` when nothing is there and ``ValueError`` when the path is
    neither (a run folder must hold ``model.safetensors``)."""
    p = Path(os.fspath(path)).absolute()
    if not p.exists():
        raise FileNotFoundError(f"model {p}: no such file or folder")
    if p.is_dir():
        if not (p / "model.safetensors").is_file():
            raise ValueError(f"model {p}: a run folder must hold model.safetensors (a folder genviz.train or `genviz train` wrote)")
    elif p.suffix not in (".safetensors", ".onnx"):
        raise ValueError(f"model {p}: expected a run folder, a .safetensors file or an .onnx file")
    return Model(p)


def from_torch(module: Any, example_input: Any, path: Optional[PathLike] = None) -> Model:
    """Exports a PyTorch module to ONNX (``torch.onnx.export``) and loads it.

    ``example_input`` is a batch the module accepts; its first axis is exported as dynamic.
    The file goes to ``path`` (default: a new ``runs/torch-*/model.onnx``). Needs torch (and
    onnx, which torch's exporter uses): ``pip install torch onnx``."""
    try:
        import torch  # noqa: F401
    except ImportError as e:
        raise ImportError("genviz.from_torch needs PyTorch: pip install torch onnx (or export the model to ONNX yourself and call genviz.load)") from e
    out = Path(os.fspath(path)) if path is not None else Path(_genviz.new_run_dir("torch")) / "model.onnx"
    out.parent.mkdir(parents=True, exist_ok=True)
    was_training = module.training
    module.eval()
    try:
        torch.onnx.export(
            module,
            (example_input,),
            str(out),
            input_names=["input"],
            output_names=["logits"],
            dynamic_axes={"input": {0: "batch"}, "logits": {0: "batch"}},
            dynamo=False,
        )
    finally:
        module.train(was_training)
    return load(out)


# ---------------------------------------------------------------------------------------------
# Results


class Run:
    """A finished job: its folder, its run record and its files."""

    #: The job's figure, drawn by ``.plot``.
    FIGURE: Optional[str] = None

    def __init__(self, dir: Path, record: Dict[str, Any]):
        self.dir = dir
        #: Seconds the Rust library spent on the job (the rest of the call is the Python layer).
        self.library_seconds: float = record.pop("_library_s", float("nan"))
        #: The job's ``run.json``.
        self.record = record

    @property
    def results(self) -> Dict[str, Any]:
        """What the job found (``results`` in ``run.json``)."""
        return self.record.get("results", {})

    @property
    def config(self) -> Dict[str, Any]:
        """The job's full configuration, as ``run.json`` holds it."""
        return self.record["config"]

    def files(self) -> List[Path]:
        """Every file the job wrote, relative to its folder."""
        return sorted(p.relative_to(self.dir) for p in self.dir.rglob("*") if p.is_file())

    def save(self, dir: PathLike) -> Path:
        """Copies the job's files (the command line's files) into ``dir``; returns it."""
        target = Path(os.fspath(dir))
        if target.resolve() != self.dir.resolve():
            shutil.copytree(self.dir, target, dirs_exist_ok=True)
        return target

    def plot(self, path: Optional[PathLike] = None) -> Path:
        """The job's figure (as the command draws it), copied to ``path`` when given."""
        if self.FIGURE is None:
            raise ValueError(f"{type(self).__name__} draws no single figure; see .files()")
        figure = self.dir / self.FIGURE
        if not figure.is_file():
            raise FileNotFoundError(f"{figure}: the job drew no such figure")
        if path is None:
            return figure
        target = Path(os.fspath(path))
        shutil.copyfile(figure, target)
        return target

    def _npz(self, name: str) -> Dict[str, np.ndarray]:
        with np.load(self.dir / name) as z:
            return {k: z[k] for k in z.files}

    def __repr__(self) -> str:
        return f"genviz.{type(self).__name__}({str(self.dir)!r}, results={self.results!r})"


class Training(Run):
    """A trained network: its run folder (``model.safetensors``, ``metrics.csv``, ...)."""

    FIGURE = "decision_boundary.png"

    @property
    def model(self) -> Model:
        """The trained model, ready for :func:`surface` and the others."""
        return load(self.dir)

    @property
    def metrics(self) -> Dict[str, np.ndarray]:
        """``metrics.csv`` as columns (step, losses, accuracies)."""
        text = (self.dir / "metrics.csv").read_text().splitlines()
        names = text[0].split(",")
        values = np.loadtxt(io.StringIO("\n".join(text[1:])), delimiter=",", ndmin=2)
        return {n: values[:, i] for i, n in enumerate(names)}


class Surface(Run):
    """A loss surface or curve: ``xs``, ``ys`` and ``[ny, nx]`` grids (``[nx]`` in 1-D) of
    ``train_loss``, ``train_acc``, ``test_loss`` and ``test_acc`` (NaN where not computed)."""

    FIGURE = "surface_contour.png"

    def __init__(self, dir: Path, record: Dict[str, Any]):
        super().__init__(dir, record)
        arrays = self._npz(self.results.get("file", "surface.npz"))
        self.arrays = arrays
        self.xs: np.ndarray = arrays["xcoordinates"]
        self.ys: Optional[np.ndarray] = arrays.get("ycoordinates")
        self.train_loss: np.ndarray = arrays["train_loss"]
        self.train_acc: np.ndarray = arrays["train_acc"]
        self.test_loss: np.ndarray = arrays["test_loss"]
        self.test_acc: np.ndarray = arrays["test_acc"]

    def plot(self, path: Optional[PathLike] = None) -> Path:
        """The contour plot of a 2-D surface (``surface_contour.png``, ``plane_contour.png``,
        ``trajectory_contour.png``) or the curve of a 1-D one, as the command draws it."""
        one_d = self.ys is None or len(self.ys) == 0
        drawn = sorted(self.dir.glob("*_1d.png" if one_d else "*_contour.png"))
        if drawn:
            self.FIGURE = drawn[0].name
        return super().plot(path)


class Basin(Run):
    """Basin radii along random rays and the basin's volume (Huang et al., Fig. 5 and 6)."""

    FIGURE = "basin_radii.png"

    def __init__(self, dir: Path, record: Dict[str, Any]):
        super().__init__(dir, record)
        self.arrays = self._npz("basin.npz")
        self.radii: np.ndarray = self.arrays["radii"]
        self.median_radius: float = float(self.results.get("median_radius", np.nan))
        self.log10_volume: float = float(self.results.get("log10_volume", np.nan))


class Hessian(Run):
    """Top eigenvalues, trace and spectral density of the loss Hessian (PyHessian's measures)."""

    FIGURE = "hessian_density.png"

    def __init__(self, dir: Path, record: Dict[str, Any]):
        super().__init__(dir, record)
        self.arrays = self._npz("hessian.npz")
        self.eigenvalues: np.ndarray = self.arrays["eigenvalues"]
        self.trace: float = float(self.arrays["trace"][0])


# ---------------------------------------------------------------------------------------------
# Inputs


def _axis(name: str, value: AxisLike) -> Dict[str, Any]:
    """``"-1:1:51"`` or ``(-1, 1, 51)`` as the library's axis."""
    if isinstance(value, str):
        parts = value.split(":")
        if len(parts) != 3:
            raise ValueError(f"{name}={value!r}: expected 'min:max:num', e.g. '-1:1:51'")
        value = (float(parts[0]), float(parts[1]), parts[2])
    try:
        lo, hi, num = value  # type: ignore[misc]
        lo, hi = float(lo), float(hi)
        n = int(num)
    except (TypeError, ValueError) as e:
        raise ValueError(f"{name}={value!r}: expected (min, max, num) or 'min:max:num'") from e
    if n < 1 or not np.isfinite(lo) or not np.isfinite(hi) or (n > 1 and not lo < hi):
        raise ValueError(f"{name}={value!r}: expected finite min < max and num >= 1")
    return {"min": lo, "max": hi, "num": n}


def _path(p: PathLike) -> str:
    return str(Path(os.fspath(p)).absolute())


def _model_path(name: str, model: Union[Model, PathLike]) -> str:
    return str(model.path) if isinstance(model, Model) else str(load(model).path)


def _arrays(data: ArrayData) -> Dict[str, np.ndarray]:
    """Checks numpy data and puts it in genviz's ``data.npz`` layout."""
    names = ("x_train", "y_train", "x_test", "y_test")
    if isinstance(data, Mapping):
        missing = [n for n in names if n not in data]
        if missing:
            raise ValueError(f"data: missing {', '.join(missing)} (expected keys {', '.join(names)})")
        values = [data[n] for n in names]
    else:
        values = list(data)
        if len(values) != 4:
            raise ValueError(f"data: expected (x_train, y_train, x_test, y_test), got {len(values)} arrays")
    out: Dict[str, np.ndarray] = {}
    for name, value in zip(names, values):
        a = np.asarray(value)
        if name.startswith("x"):
            if a.dtype.kind not in "fiu":
                raise ValueError(f"data {name}: expected real numbers, got dtype {a.dtype}")
            if a.ndim < 2:
                raise ValueError(f"data {name}: expected shape [examples, features...], got {list(a.shape)}")
            a = a.reshape(a.shape[0], -1).astype(np.float32)
            if not np.isfinite(a).all():
                raise ValueError(f"data {name}: holds NaN or infinite values")
        else:
            if a.ndim == 2 and a.shape[1] == 1:
                a = a[:, 0]
            if a.dtype.kind not in "iu":
                raise ValueError(f"data {name}: expected integer class labels, got dtype {a.dtype}")
            if a.ndim != 1:
                raise ValueError(f"data {name}: expected shape [examples], got {list(a.shape)}")
            if a.size and a.min() < 0:
                raise ValueError(f"data {name}: labels must be >= 0, found {int(a.min())}")
            a = a.astype(np.int64)
        out[name] = a
    for split in ("train", "test"):
        x, y = out["x_" + split], out["y_" + split]
        if len(x) != len(y):
            raise ValueError(f"data y_{split}: {len(y)} labels for {len(x)} examples in x_{split}")
        if len(x) == 0:
            raise ValueError(f"data x_{split}: no examples")
    if out["x_train"].shape[1] != out["x_test"].shape[1]:
        raise ValueError(f"data x_test: {out['x_test'].shape[1]} features, but x_train has {out['x_train'].shape[1]}")
    return out


def _source(
    data: DataLike,
    out: Path,
    seed: int,
    eval_train: Optional[int] = None,
    eval_test: Optional[int] = None,
    device: str = "cpu",
    params: Optional[str] = None,
    head: Optional[str] = None,
    bn: str = "running",
) -> Dict[str, Any]:
    """The library's data source, as ``--data``, ``--seed``, ``--eval-train`` ... build it.
    numpy data is written to ``OUT/input_data.npz`` so that the run can be rerun from its
    record."""
    if data is None:
        spec: Optional[str] = None
    elif isinstance(data, (str, os.PathLike)):
        text = os.fspath(data)
        for prefix in ("csv:", "npz:"):
            if text.startswith(prefix):
                text = prefix + _path(text[len(prefix):])
        if text.endswith(".npz") and ":" not in text:
            text = _path(text)
        spec = text
    else:
        arrays = _arrays(data)
        out.mkdir(parents=True, exist_ok=True)
        file = out / "input_data.npz"
        tmp = out / ".input_data.npz.tmp"
        with open(tmp, "wb") as f:
            np.savez(f, **arrays)
        os.replace(tmp, file)
        spec = str(file.absolute())
    source: Dict[str, Any] = {"data": spec, "seed": int(seed)}
    if eval_train is not None:
        source["eval_train"] = int(eval_train)
    if eval_test is not None:
        source["eval_test"] = int(eval_test)
    model: Dict[str, Any] = {}
    if device != "cpu":
        model["device"] = device
    if params is not None:
        model["params"] = params
    if head is not None:
        if head not in ("softmax", "sigmoid"):
            raise ValueError(f"head={head!r}: expected 'softmax' or 'sigmoid'")
        model["head"] = head
    if bn != "running":
        if bn != "recompute":
            raise ValueError(f"bn={bn!r}: expected 'running' or 'recompute'")
        model["bn"] = bn
    if model:
        source["model"] = model
    return source


def _out(out: Optional[PathLike], kind: str) -> Path:
    return Path(os.fspath(out)).absolute() if out is not None else Path(_genviz.new_run_dir(kind)).absolute()


def _grid(
    data: DataLike,
    out: Path,
    seed: int,
    eval_train: Optional[int],
    eval_test: Optional[int],
    save_every: float,
    vmin: float,
    vmax: float,
    vlevel: float,
    log: bool,
    zmax: float,
    model_options: Mapping[str, Any],
) -> Dict[str, Any]:
    return {
        "data": _source(data, out, seed, eval_train, eval_test, **model_options),
        "save_every": float(save_every),
        "plot": {"vmin": float(vmin), "vmax": float(vmax), "vlevel": float(vlevel), "log": bool(log), "zmax": float(zmax)},
    }


class _Bars:
    """tqdm bars for a job's stages (see the native module's progress events)."""

    def __init__(self, tqdm: Any):
        self.tqdm = tqdm
        self.bars: Dict[str, Any] = {}

    def __call__(self, event: str, label: str, value: int, text: str) -> None:
        if event == "stage":
            self.bars[label] = self.tqdm(total=value, desc=label, unit=f" {text}", leave=True)
        elif event == "update" and label in self.bars:
            bar = self.bars[label]
            bar.n = value
            if text:
                bar.set_postfix_str(text, refresh=False)
            bar.refresh()
        elif event in ("finish", "fail") and label in self.bars:
            bar = self.bars.pop(label)
            if text:
                bar.set_postfix_str(text, refresh=False)
            bar.close()
        elif event in ("note", "log"):
            self.tqdm.write(text)


def _progress(progress: Union[bool, Callable[[str, str, int, str], None]]) -> Optional[Callable[..., None]]:
    if callable(progress):
        return progress
    if not progress:
        return None
    try:
        from tqdm.auto import tqdm
    except ImportError:
        return None
    return _Bars(tqdm)


def _call(name: str, arguments: Mapping[str, Any]) -> str:
    shown = ", ".join(f"{k}={v!r}" for k, v in arguments.items() if v is not None)
    return f"genviz.{name}({shown})"


def _run(command: str, config: Dict[str, Any], out: Path, invocation: str, progress: Any) -> Dict[str, Any]:
    job = json.dumps({"command": command, "config": config})
    record, seconds = _genviz.run(job, str(out), invocation, _progress(progress))
    parsed = json.loads(record)
    parsed["_library_s"] = seconds
    return parsed


_MODEL_OPTIONS = ("device", "params", "head", "bn")


def _options(device: str, params: Optional[str], head: Optional[str], bn: str) -> Dict[str, Any]:
    return dict(zip(_MODEL_OPTIONS, (device, params, head, bn)))


# ---------------------------------------------------------------------------------------------
# Jobs


def train(
    config: Optional[Mapping[str, Any]] = None,
    *,
    preset: str = "swiss-roll-clean",
    steps: Optional[int] = None,
    seed: Optional[int] = None,
    log_every: Optional[int] = None,
    checkpoint_every: Optional[int] = None,
    out: Optional[PathLike] = None,
    progress: Union[bool, Callable[..., None]] = True,
) -> Training:
    """Trains a network into a run folder (``genviz train``).

    ``config`` is a full experiment configuration (the ``config`` of a training run's
    ``run.json``); without it, the preset (``swiss-roll-clean``, ``swiss-roll-poisoned``,
    ``fashion-mnist-clean`` or ``fashion-mnist-poisoned``: the settings and step counts
    ``genviz paper`` trains with) is used. ``steps``, ``seed``, ``log_every`` (metrics rows)
    and ``checkpoint_every`` (checkpoints, which are also the points of ``trajectory.npz``)
    override it. Training into an ``out`` that holds an interrupted run resumes it."""
    if config is None:
        cfg = json.loads(_genviz.preset(preset, None if steps is None else int(steps)))
    else:
        cfg = json.loads(json.dumps(dict(config)))
        if steps is not None:
            cfg.setdefault("train", {})["steps"] = int(steps)
    if seed is not None:
        cfg["seed"] = int(seed)
    for key, value in (("log_every", log_every), ("checkpoint_every", checkpoint_every)):
        if value is not None:
            cfg.setdefault("train", {})[key] = int(value)
    folder = _out(out, "train")
    record = _run("train", cfg, folder, _call("train", {"preset": preset if config is None else None, "steps": steps, "seed": seed, "checkpoint_every": checkpoint_every, "out": out}), progress)
    return Training(folder, record)


def eval(
    model: Union[Model, PathLike],
    data: DataLike = None,
    *,
    seed: int = SWISS_ROLL_SEED,
    device: str = "cpu",
    params: Optional[str] = None,
    head: Optional[str] = None,
    bn: str = "running",
) -> Dict[str, Any]:
    """Loss and accuracy of a model on its training and test data (``genviz eval``)."""
    path = _model_path("model", model)
    with tempfile.TemporaryDirectory() as scratch:
        source = _source(data, Path(scratch), seed, None, None, device, params, head, bn)
        return json.loads(_genviz.evaluate(path, json.dumps(source)))


def surface(
    model: Union[Model, PathLike],
    x: AxisLike = "-1:1:51",
    y: Optional[AxisLike] = None,
    *,
    data: DataLike = None,
    spacing: str = "linear",
    norm: str = "filter",
    bias: str = "ignore",
    same_dir: bool = False,
    orthogonal: bool = False,
    directions: Optional[PathLike] = None,
    model2: Optional[Union[Model, PathLike]] = None,
    model3: Optional[Union[Model, PathLike]] = None,
    direction_seed: int = 0,
    seed: int = SWISS_ROLL_SEED,
    eval_train: Optional[int] = None,
    eval_test: Optional[int] = None,
    save_every: float = 2.0,
    vmin: float = 0.1,
    vmax: float = 10.0,
    vlevel: float = 0.5,
    log: bool = False,
    zmax: float = 10.0,
    device: str = "cpu",
    params: Optional[str] = None,
    head: Optional[str] = None,
    bn: str = "running",
    out: Optional[PathLike] = None,
    progress: Union[bool, Callable[..., None]] = True,
) -> Surface:
    """A 1-D or 2-D loss surface around a model along filter-normalised random directions
    (Li et al.; ``genviz surface``).

    Args:
        model: a :class:`Model`, a run folder, a ``.safetensors`` or an ``.onnx`` file.
        x, y: coordinates, ``'min:max:num'`` or ``(min, max, num)``; without ``y`` the surface
            is a curve.
        spacing: ``'linear'``, ``'pow5'`` or ``'pow2'`` (dense near the model).
        norm: direction normalisation: ``'filter'`` (Li et al.), ``'layer'``, ``'weight'``,
            ``'dfilter'``, ``'dlayer'`` or ``'none'``.
        bias: biases in random directions: ``'ignore'`` (zero) or ``'copy-theta'``.
        same_dir: use the x direction for y too. orthogonal: make y orthogonal to x.
        directions: directions from a file (safetensors or npz with ``x.<name>``/``y.<name>``).
        model2, model3: x = model2 - model, y = model3 - model instead of random directions.
        direction_seed: seed of the random directions."""
    folder = _out(out, "surface")
    if bias not in ("ignore", "copy-theta"):
        raise ValueError(f"bias={bias!r}: expected 'ignore' or 'copy-theta'")
    dirs: Dict[str, Any] = {
        "norm": norm,
        "bias": bias,
        "seed": int(direction_seed),
        "same_dir": bool(same_dir),
        "orthogonal": bool(orthogonal),
    }
    if directions is not None:
        dirs["file"] = _path(directions)
    if model2 is not None:
        dirs["model2"] = _model_path("model2", model2)
    if model3 is not None:
        dirs["model3"] = _model_path("model3", model3)
    config = {
        "model": _model_path("model", model),
        "x": _axis("x", x),
        "y": None if y is None else _axis("y", y),
        "spacing": spacing,
        "directions": dirs,
        "grid": _grid(data, folder, seed, eval_train, eval_test, save_every, vmin, vmax, vlevel, log, zmax, _options(device, params, head, bn)),
    }
    invocation = _call("surface", {"model": str(config["model"]), "x": x, "y": y, "out": out})
    return Surface(folder, _run("surface", config, folder, invocation, progress))


def interpolate(
    model1: Union[Model, PathLike],
    model2: Union[Model, PathLike],
    x: AxisLike = "-0.5:1.5:401",
    *,
    data: DataLike = None,
    seed: int = SWISS_ROLL_SEED,
    eval_train: Optional[int] = None,
    eval_test: Optional[int] = None,
    save_every: float = 2.0,
    vmin: float = 0.1,
    vmax: float = 10.0,
    vlevel: float = 0.5,
    log: bool = False,
    zmax: float = 10.0,
    device: str = "cpu",
    params: Optional[str] = None,
    head: Optional[str] = None,
    bn: str = "running",
    out: Optional[PathLike] = None,
    progress: Union[bool, Callable[..., None]] = True,
) -> Surface:
    """The loss along the line from ``model1`` (0) to ``model2`` (1) (Goodfellow et al.;
    ``genviz interpolate``)."""
    folder = _out(out, "interpolate")
    config = {
        "model1": _model_path("model1", model1),
        "model2": _model_path("model2", model2),
        "x": _axis("x", x),
        "grid": _grid(data, folder, seed, eval_train, eval_test, save_every, vmin, vmax, vlevel, log, zmax, _options(device, params, head, bn)),
    }
    invocation = _call("interpolate", {"model1": config["model1"], "model2": config["model2"], "x": x, "out": out})
    return Surface(folder, _run("interpolate", config, folder, invocation, progress))


def plane(
    model0: Union[Model, PathLike],
    model1: Union[Model, PathLike],
    model2: Union[Model, PathLike],
    *,
    grid: int = 21,
    margin: float = 0.2,
    data: DataLike = None,
    seed: int = SWISS_ROLL_SEED,
    eval_train: Optional[int] = None,
    eval_test: Optional[int] = None,
    save_every: float = 2.0,
    vmin: float = 0.1,
    vmax: float = 10.0,
    vlevel: float = 0.5,
    log: bool = False,
    zmax: float = 10.0,
    device: str = "cpu",
    params: Optional[str] = None,
    head: Optional[str] = None,
    bn: str = "running",
    out: Optional[PathLike] = None,
    progress: Union[bool, Callable[..., None]] = True,
) -> Surface:
    """The loss over the plane through three models (Garipov et al.; ``genviz plane``)."""
    folder = _out(out, "plane")
    config = {
        "model0": _model_path("model0", model0),
        "model1": _model_path("model1", model1),
        "model2": _model_path("model2", model2),
        "points": int(grid),
        "margin": float(margin),
        "grid": _grid(data, folder, seed, eval_train, eval_test, save_every, vmin, vmax, vlevel, log, zmax, _options(device, params, head, bn)),
    }
    invocation = _call("plane", {"model0": config["model0"], "model1": config["model1"], "model2": config["model2"], "out": out})
    return Surface(folder, _run("plane", config, folder, invocation, progress))


def trajectory(
    run: Union[Model, PathLike],
    *,
    x: Optional[AxisLike] = None,
    y: Optional[AxisLike] = None,
    num: int = 41,
    data: DataLike = None,
    seed: int = SWISS_ROLL_SEED,
    eval_train: Optional[int] = None,
    eval_test: Optional[int] = None,
    save_every: float = 2.0,
    vmin: float = 0.1,
    vmax: float = 10.0,
    vlevel: float = 0.5,
    log: bool = False,
    zmax: float = 10.0,
    device: str = "cpu",
    params: Optional[str] = None,
    head: Optional[str] = None,
    bn: str = "running",
    out: Optional[PathLike] = None,
    progress: Union[bool, Callable[..., None]] = True,
) -> Surface:
    """A run's training path on the plane of its first two principal components, over the
    loss surface there (``genviz trajectory``)."""
    folder = _out(out, "trajectory")
    config = {
        "run": _model_path("run", run),
        "checkpoints": [],
        "x": None if x is None else _axis("x", x),
        "y": None if y is None else _axis("y", y),
        "num": int(num),
        "grid": _grid(data, folder, seed, eval_train, eval_test, save_every, vmin, vmax, vlevel, log, zmax, _options(device, params, head, bn)),
    }
    invocation = _call("trajectory", {"run": config["run"], "out": out})
    return Surface(folder, _run("trajectory", config, folder, invocation, progress))


def basin(
    model: Union[Model, PathLike],
    *,
    rays: int = 200,
    threshold: float = 1.0,
    mode: str = "exact",
    max_radius: float = 2.0,
    tolerance: float = 1e-3,
    span: float = 1.0,
    samples: int = 100,
    direction_seed: int = 0,
    norm: str = "filter",
    data: DataLike = None,
    seed: int = SWISS_ROLL_SEED,
    device: str = "cpu",
    params: Optional[str] = None,
    head: Optional[str] = None,
    bn: str = "running",
    out: Optional[PathLike] = None,
    progress: Union[bool, Callable[..., None]] = True,
) -> Basin:
    """Basin radii along random filter-normalised rays and the basin's volume (Huang et al.,
    Fig. 5; ``genviz basin``). ``mode`` is ``'exact'`` (bisection) or ``'gen-viz'`` (the
    authors' sampling).

    Args:
        rays: random filter-normalised rays (each gives two radii).
        threshold: the training loss that bounds the basin (the authors: 1).
        max_radius, tolerance: exact mode: the largest distance searched and the bisection's
            relative width.
        span, samples: gen-viz mode: twice the largest distance and samples per side.
        direction_seed: seed of the rays. norm: ``'filter'`` or ``'none'``."""
    folder = _out(out, "basin")
    if mode == "exact":
        radius = {"kind": "exact", "max_radius": float(max_radius), "tolerance": float(tolerance), "bracket": 6}
    elif mode == "gen-viz":
        radius = {"kind": "gen_viz", "span": float(span), "samples": int(samples)}
    else:
        raise ValueError(f"mode={mode!r}: expected 'exact' or 'gen-viz'")
    config = {
        "model": _model_path("model", model),
        "rays": {
            "rays": int(rays),
            "threshold": float(threshold),
            "mode": radius,
            "seed": int(direction_seed),
            "norm": norm,
            "bias": "ignore",
        },
        "data": _source(data, folder, seed, None, None, device, params, head, bn),
    }
    invocation = _call("basin", {"model": config["model"], "rays": rays, "out": out})
    return Basin(folder, _run("basin", config, folder, invocation, progress))


def hessian(
    model: Union[Model, PathLike],
    *,
    top_k: int = 3,
    lanczos: int = 80,
    runs: int = 1,
    filter_normalised: bool = False,
    ratio_map: int = 0,
    ratio_extent: float = 1.0,
    hessian_seed: int = 0,
    data: DataLike = None,
    seed: int = SWISS_ROLL_SEED,
    device: str = "cpu",
    params: Optional[str] = None,
    head: Optional[str] = None,
    bn: str = "running",
    out: Optional[PathLike] = None,
    progress: Union[bool, Callable[..., None]] = True,
) -> Hessian:
    """Top eigenvalues, trace and spectral density of the loss Hessian, optionally the map of
    ``|lambda_min / lambda_max|`` over a random plane (``genviz hessian``).

    Args:
        top_k: number of top eigenvalues. lanczos: Lanczos steps of the spectral density (0:
            none). runs: Lanczos runs averaged.
        filter_normalised: the filter-normalised Hessian D H D of the authors' code.
        ratio_map: points per side of the eigenvalue-ratio map (0: none); ratio_extent: its
            coordinates' extent. hessian_seed: seed of the random vectors."""
    folder = _out(out, "hessian")
    config = {
        "model": _model_path("model", model),
        "top_k": int(top_k),
        "lanczos": int(lanczos),
        "runs": int(runs),
        "filter_normalised": bool(filter_normalised),
        "ratio_map": int(ratio_map),
        "ratio_extent": float(ratio_extent),
        "seed": int(hessian_seed),
        "data": _source(data, folder, seed, None, None, device, params, head, bn),
    }
    invocation = _call("hessian", {"model": config["model"], "top_k": top_k, "out": out})
    return Hessian(folder, _run("hessian", config, folder, invocation, progress))


def connect(
    model1: Union[Model, PathLike],
    model2: Union[Model, PathLike],
    *,
    config: Optional[Mapping[str, Any]] = None,
    out: Optional[PathLike] = None,
    progress: Union[bool, Callable[..., None]] = True,
) -> Run:
    """A low-loss curve between two minima (Garipov et al.; ``genviz connect``).

    ``config`` overrides fields of the job's configuration (the ``config`` of a connect run's
    ``run.json``: curve, bends, steps, lr, ...); by default the command's defaults are used."""
    folder = _out(out, "connect")
    cfg: Dict[str, Any] = {
        "model1": _model_path("model1", model1),
        "model2": _model_path("model2", model2),
        "curve": "bezier",
        "bends": 3,
        "training": {
            "steps": 20000,
            "lr": 0.003,
            "optimizer": {"kind": "adam", "beta1": 0.9, "beta2": 0.999, "eps": 1e-08},
            "weight_decay": 1e-4,
            "clip_norm": 8.0,
            "seed": 0,
        },
        "points": 61,
        "grid": 21,
        "data": _source(None, folder, SWISS_ROLL_SEED),
    }
    for key, value in dict(config or {}).items():
        if key == "training" and isinstance(value, Mapping):
            cfg["training"].update(value)
        else:
            cfg[key] = value
    invocation = _call("connect", {"model1": cfg["model1"], "model2": cfg["model2"], "out": out})
    result = Run(folder, _run("connect", cfg, folder, invocation, progress))
    result.FIGURE = "connect_path.png"
    return result


def paper(
    *,
    full: bool = False,
    only: Optional[Sequence[str]] = None,
    out: Optional[PathLike] = None,
    progress: Union[bool, Callable[..., None]] = True,
    **scale: Any,
) -> Run:
    """Reproduces the paper's figures and checks (``genviz paper``): the quick preset, or
    ``full=True``; ``only`` names figures (``'1'``, ``'3'``, ``'5'``, ...) as ``--only`` does.
    Further keywords override fields of the preset's scale, e.g. ``clean_steps=2000,
    poisoned_steps=2000, basin_rays=50`` (``--clean-steps`` ...; the ``scale`` of the run's
    ``run.json`` lists them). The results table is ``.results['checks']``; the report is
    ``report.html`` in ``.dir``."""
    cfg = json.loads(_genviz.paper_config(bool(full)))
    for key, value in scale.items():
        if key not in cfg["scale"]:
            raise ValueError(f"paper: no scale setting `{key}`; expected one of {', '.join(sorted(cfg['scale']))}")
        cfg["scale"][key] = value
    if only is not None:
        cfg["figures"] = ["fig" + str(f) if str(f).isdigit() else str(f).lower() for f in only]
    folder = _out(out, "paper")
    invocation = _call("paper", {"full": full or None, "only": only, "out": out})
    result = Run(folder, _run("paper", cfg, folder, invocation, progress))
    result.FIGURE = None
    return result


# ---------------------------------------------------------------------------------------------
# The arguments every job shares, explained once and appended to each function's docstring so
# that editors and help() show them.

_MODEL_DOC = """
    Model and data arguments (as the command's flags):
        data: what ``--data`` takes (a built-in set's name such as ``'swiss-roll'`` or
            ``'fashion-mnist'``, a ``.npz`` file, ``'csv:PATH'``, ``'npz:PATH'``), or numpy
            arrays ``(x_train, y_train, x_test, y_test)`` / a mapping with those keys. Default:
            the run folder's own data.
        seed: seed of a built-in data set and of evaluation subsets (``--seed``, 1237).
        device: ``'cpu'`` or ``'cuda'`` (a build with the ``cuda`` feature), for conv nets and
            ONNX models.
        params: ONNX models: a regular expression; only initializers whose names match are
            parameters.
        head: ONNX models: the loss head, ``'softmax'`` or ``'sigmoid'``.
        bn: ONNX models: BatchNorm statistics, ``'running'`` (stored) or ``'recompute'``.
        out: the run folder (default: a new folder under ``runs/``); an interrupted job in it
            resumes.
        progress: ``True`` for tqdm bars (when tqdm is installed), ``False`` for none, or a
            callable ``f(event, label, value, text)``.
"""

_GRID_DOC = """
    Grid arguments (as the command's flags):
        eval_train, eval_test: evaluate on a fixed subset of this many training / test
            examples (``--eval-train``, ``--eval-test``).
        save_every: seconds between saves of the partial grid (what an interrupted call
            resumes from).
        vmin, vmax, vlevel, log, zmax: the contour plot's range, level spacing, log scale and
            the 3-D plot's clip, as ``--vmin`` ... ``--zmax``.
"""

for _job in (surface, interpolate, plane, trajectory):
    _job.__doc__ = (_job.__doc__ or "") + "\n" + _GRID_DOC + _MODEL_DOC
for _job in (basin, hessian):
    _job.__doc__ = (_job.__doc__ or "") + "\n" + _MODEL_DOC
del _job
