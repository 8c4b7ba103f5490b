"""Type stubs of genviz's native module (python/src/lib.rs). Use the functions of ``genviz``."""

from os import PathLike
from typing import Callable, List, Optional, Tuple, Union

import numpy as np
import numpy.typing as npt

__version__: str

ProgressCallback = Callable[[str, str, int, str], None]

def run(job: str, out: Union[str, PathLike[str]], invocation: str, progress: Optional[ProgressCallback] = None) -> Tuple[str, float]:
    """Runs a job (``{"command": ..., "config": ...}`` JSON, as in run.json) into ``out`` with
    the GIL released; returns its run record as JSON and the seconds the library spent on it.
    Ctrl-C raises KeyboardInterrupt."""

def preset(name: str, steps: Optional[int] = None) -> str:
    """A training preset's configuration as JSON (default steps: the paper's)."""

def paper_config(full: bool) -> str:
    """``genviz paper``'s quick or full configuration as JSON."""

def evaluate(model: Union[str, PathLike[str]], data: str) -> str:
    """``genviz eval``'s result as JSON; ``data`` is a data source as JSON."""

def predict(model: Union[str, PathLike[str]], x: npt.NDArray[np.float32], data: str) -> npt.NDArray[np.uint32]:
    """The predicted class of each row of ``x``."""

def read_tensors(path: Union[str, PathLike[str]]) -> List[Tuple[str, npt.NDArray[np.float32]]]:
    """A safetensors file's tensors in file order."""

def new_run_dir(kind: str) -> str:
    """A new folder name under runs/, as the command line chooses it."""
