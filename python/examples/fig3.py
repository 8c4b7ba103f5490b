"""Fig. 3 of Huang et al. (2019) from Python: the decision boundaries of a clean and a poisoned
swiss-roll network (both fit their training set; the poisoned one generalises badly).

    python python/examples/fig3.py [OUT] [--steps N]

Trains both networks with the paper's settings into OUT (default runs/fig3-python), prints their
accuracies and writes fig3.png: drawn with matplotlib when it is installed, else genviz's own
panels side by side are the figure (clean/decision_boundary.png, poisoned/...). Rerunning
resumes the training where it stopped.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

import genviz


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("out", nargs="?", default="runs/fig3-python", type=Path)
    parser.add_argument("--steps", type=int, default=None, help="training steps of each net (default: the paper's 40,000 / 60,000)")
    args = parser.parse_args()

    clean = genviz.train(preset="swiss-roll-clean", steps=args.steps, out=args.out / "clean")
    poisoned = genviz.train(preset="swiss-roll-poisoned", steps=args.steps, out=args.out / "poisoned")
    for name, run in (("clean", clean), ("poisoned", poisoned)):
        final = run.results["final"]
        print(f"{name:>9}: train {final['train_acc']:.1%}, test {final['test_acc']:.1%}  ({run.dir})")

    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print(f"matplotlib is not installed; genviz's figures: {clean.plot()} and {poisoned.plot()}")
        return

    # Predicted class over the window gen-viz plots (SPEC 1.6: [-18, 18]^2).
    side = np.linspace(-18, 18, 300, dtype=np.float32)
    gx, gy = np.meshgrid(side, side)
    grid = np.stack([gx.ravel(), gy.ravel()], axis=1)
    fig, axes = plt.subplots(1, 2, figsize=(10, 5), constrained_layout=True)
    for ax, (name, run) in zip(axes, (("clean", clean), ("poisoned", poisoned))):
        classes = run.model.predict(grid).reshape(gx.shape)
        ax.contourf(gx, gy, classes, levels=[-0.5, 0.5, 1.5], colors=["#f4b6b6", "#b6c8f4"])
        with np.load(run.dir / "data.npz") as z:
            x, y = z["x_train"], z["y_train"]
        ax.scatter(x[:, 0], x[:, 1], c=np.where(y == 0, "#c0392b", "#2e5cb8"), s=6)
        final = run.results["final"]
        ax.set_title(f"{name}: train {final['train_acc']:.0%}, test {final['test_acc']:.0%}")
        ax.set_aspect("equal")
    path = args.out / "fig3.png"
    fig.savefig(path, dpi=120)
    print(f"figure: {path}")


if __name__ == "__main__":
    main()
