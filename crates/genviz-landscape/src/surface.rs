//! Loss and accuracy over a grid of points `center + a * x + b * y`.

use crate::direction::{difference, same_layout};
use crate::grid::Shard;
use genviz_core::io::{write_npz, NpyArray, Npz};
use genviz_core::{Affine, Dataset, Error, Fingerprint, Network, Params, Result};
use std::path::Path;

/// Marks a grid point not yet evaluated, as in Li et al.'s surface files (losses and
/// accuracies are never negative).
pub const UNFILLED: f64 = -1.0;

/// Parameter values evaluated together per batch, at most (bounds memory: 64 Mi floats).
const BATCH_VALUES: usize = 64 << 20;

/// Grid points allowed in one surface (4 arrays of f64 each): 50 million points use 1.6 GB.
pub const MAX_POINTS: usize = 50_000_000;

/// The affine slice of parameter space a landscape lives in.
#[derive(Clone, Debug)]
pub struct Plane {
    /// The origin (the trained model).
    pub center: Params,
    /// The first direction.
    pub x: Params,
    /// The second direction, for 2-D surfaces.
    pub y: Option<Params>,
}

impl Plane {
    /// Checks that the directions fit the model.
    pub fn new(center: Params, x: Params, y: Option<Params>) -> Result<Self> {
        same_layout(&center, &x)
            .map_err(|e| Error::invalid(format!("the x direction does not fit the model: {e}")))?;
        if let Some(y) = &y {
            same_layout(&center, y).map_err(|e| {
                Error::invalid(format!("the y direction does not fit the model: {e}"))
            })?;
        }
        Ok(Plane { center, x, y })
    }

    /// Garipov et al.'s plane through `w0`, `w1`, `w2` (`plane.py`): x along `w2 - w0`, y the
    /// part of `w1 - w0` orthogonal to it, each scaled so that coordinates are in units of
    /// those distances: `w0` at (0, 0), `w2` at (1, 0) and `w1` at (`along`, 1). Returns the
    /// plane and `along`.
    ///
    /// # Errors
    /// When two of the models coincide or the three lie on one line.
    pub fn through(w0: &Params, w1: &Params, w2: &Params) -> Result<(Self, f64)> {
        let u = difference(w2, w0)?;
        let mut v = difference(w1, w0)?;
        let (dx, v_raw) = (u.norm(), v.norm());
        if dx == 0.0 || v_raw == 0.0 {
            return Err(Error::invalid("the three models must differ"));
        }
        let along = genviz_core::params::dot(v.values(), u.values()) / (dx * dx);
        for (vv, &uv) in v.values_mut().iter_mut().zip(u.values()) {
            *vv = (f64::from(*vv) - along * f64::from(uv)) as f32;
        }
        if v.norm() < 1e-9 * v_raw {
            return Err(Error::invalid(
                "the three models lie on one line; a plane needs three models not in a line",
            ));
        }
        Ok((Plane::new(w0.clone(), u, Some(v))?, along))
    }

    /// Coordinates of `w` in this 2-D plane by least squares, so they are exact for points in
    /// the plane even when its directions are not orthogonal. A line's plane gives `(a, 0)`.
    pub fn coords_of(&self, w: &[f32]) -> (f64, f64) {
        let r: Vec<f32> = w
            .iter()
            .zip(self.center.values())
            .map(|(a, b)| a - b)
            .collect();
        match &self.y {
            Some(y) => crate::pca::project_lstsq(&[r], self.x.values(), y.values())[0],
            None => {
                let xx = genviz_core::params::dot(self.x.values(), self.x.values());
                (genviz_core::params::dot(&r, self.x.values()) / xx, 0.0)
            }
        }
    }

    /// The plane as the core's [`Affine`] view.
    pub fn affine(&self) -> Affine<'_> {
        Affine {
            center: self.center.values(),
            x: self.x.values(),
            y: self.y.as_ref().map(|y| y.values()),
        }
    }

    /// Writes `center + a * x + b * y` into `out` (see [`Affine::point`]).
    pub fn point(&self, a: f64, b: f64, out: &mut [f32]) {
        self.affine().point(a, b, out);
    }

    /// A fingerprint of the plane, its coordinates and data, so a resumed or merged file is
    /// known to belong to the same computation.
    pub fn fingerprint(&self, xs: &[f64], ys: &[f64], data: &[&Dataset]) -> i64 {
        let mut h = Fingerprint::new();
        for p in [Some(&self.center), Some(&self.x), self.y.as_ref()]
            .into_iter()
            .flatten()
        {
            h.f32s(p.values());
        }
        h.f64s(xs).f64s(ys);
        for d in data {
            h.dataset(d);
        }
        h.as_i64()
    }
}

/// Loss and accuracy on the training and test sets over a 1-D or 2-D grid.
///
/// Values are stored row-major `[ny, nx]` (`index = iy * nx + ix`; `[nx]` for 1-D), which is
/// what `numpy.meshgrid(x, y)` and matplotlib's `contour(X, Y, Z)` expect.
#[derive(Clone, Debug, PartialEq)]
pub struct Surface {
    /// x coordinates.
    pub xs: Vec<f64>,
    /// y coordinates (empty for 1-D).
    pub ys: Vec<f64>,
    /// Mean training loss per point.
    pub train_loss: Vec<f64>,
    /// Training accuracy per point.
    pub train_acc: Vec<f64>,
    /// Mean test loss per point.
    pub test_loss: Vec<f64>,
    /// Test accuracy per point.
    pub test_acc: Vec<f64>,
    /// Fingerprint of the computation (see [`Plane::fingerprint`]).
    pub fingerprint: i64,
}

impl Surface {
    /// An unfilled surface over `xs` x `ys`, checking its size first.
    pub fn new(xs: Vec<f64>, ys: Vec<f64>, fingerprint: i64) -> Result<Self> {
        let n = xs.len().saturating_mul(ys.len().max(1));
        if n > MAX_POINTS {
            return Err(Error::invalid(format!(
                "a grid of {} x {} = {n} points is too big: it would need {:.1} GB for its values alone (at most {MAX_POINTS} points)",
                xs.len(),
                ys.len().max(1),
                n as f64 * 32.0 / 1e9
            )));
        }
        Ok(Surface {
            train_loss: vec![UNFILLED; n],
            train_acc: vec![UNFILLED; n],
            test_loss: vec![UNFILLED; n],
            test_acc: vec![UNFILLED; n],
            xs,
            ys,
            fingerprint,
        })
    }

    /// Number of grid points.
    pub fn len(&self) -> usize {
        self.train_loss.len()
    }

    /// True for an empty grid.
    pub fn is_empty(&self) -> bool {
        self.train_loss.is_empty()
    }

    /// Coordinates `(a, b)` of flat point `i`.
    pub fn coords(&self, i: usize) -> (f64, f64) {
        let nx = self.xs.len();
        let b = if self.ys.is_empty() {
            0.0
        } else {
            self.ys[i / nx]
        };
        (self.xs[i % nx], b)
    }

    /// Whether point `i` has been evaluated.
    pub fn is_filled(&self, i: usize) -> bool {
        self.train_loss[i] != UNFILLED
    }

    /// Number of evaluated points.
    pub fn filled(&self) -> usize {
        (0..self.len()).filter(|&i| self.is_filled(i)).count()
    }

    /// Evaluates every unfilled point of `shard` on `train` and `test`, in batches, calling
    /// `after_batch` with the number of points done so far (to save the file and report).
    pub fn fill(
        &mut self,
        net: &dyn Network,
        plane: &Plane,
        train: &Dataset,
        test: &Dataset,
        shard: Shard,
        after_batch: &mut dyn FnMut(&Surface, usize) -> Result<()>,
    ) -> Result<()> {
        let todo: Vec<usize> = shard
            .range(self.len())
            .filter(|&i| !self.is_filled(i))
            .collect();
        let p = plane.center.values().len();
        let batch = (BATCH_VALUES / p.max(1)).clamp(1, 256);
        let mut done = 0;
        for chunk in todo.chunks(batch) {
            let coords: Vec<(f64, f64)> = chunk.iter().map(|&i| self.coords(i)).collect();
            let tr = net.evaluate_affine(plane.affine(), &coords, train);
            let te = net.evaluate_affine(plane.affine(), &coords, test);
            for (k, &i) in chunk.iter().enumerate() {
                self.train_loss[i] = tr[k].loss;
                self.train_acc[i] = tr[k].accuracy;
                self.test_loss[i] = te[k].loss;
                self.test_acc[i] = te[k].accuracy;
            }
            done += chunk.len();
            after_batch(self, done)?;
        }
        Ok(())
    }

    /// Writes the surface as `.npz` with Li et al.'s names (`xcoordinates`, `ycoordinates`,
    /// `train_loss`, `train_acc`, `test_loss`, `test_acc`; unfilled points hold -1), atomically.
    pub fn save(&self, path: &Path) -> Result<()> {
        let shape = if self.ys.is_empty() {
            vec![self.xs.len()]
        } else {
            vec![self.ys.len(), self.xs.len()]
        };
        let mut arrays = vec![(
            "xcoordinates",
            NpyArray::F64(self.xs.clone(), vec![self.xs.len()]),
        )];
        if !self.ys.is_empty() {
            arrays.push((
                "ycoordinates",
                NpyArray::F64(self.ys.clone(), vec![self.ys.len()]),
            ));
        }
        for (name, v) in [
            ("train_loss", &self.train_loss),
            ("train_acc", &self.train_acc),
            ("test_loss", &self.test_loss),
            ("test_acc", &self.test_acc),
        ] {
            arrays.push((name, NpyArray::F64(v.clone(), shape.clone())));
        }
        arrays.push((
            "fingerprint",
            NpyArray::I64(vec![self.fingerprint], vec![1]),
        ));
        write_npz(path, &arrays)
    }

    /// Reads a surface written by [`Surface::save`].
    pub fn load(path: &Path) -> Result<Self> {
        let mut npz = Npz::open(path)?;
        let names = npz.names()?;
        let f64s = |npz: &mut Npz, name: &str| -> Result<Vec<f64>> { Ok(npz.f64(name)?.0) };
        let xs = f64s(&mut npz, "xcoordinates")?;
        let ys = if names.iter().any(|n| n == "ycoordinates") {
            f64s(&mut npz, "ycoordinates")?
        } else {
            Vec::new()
        };
        let n = xs.len() * ys.len().max(1);
        let mut arrays = Vec::new();
        for name in ["train_loss", "train_acc", "test_loss", "test_acc"] {
            let v = f64s(&mut npz, name)?;
            if v.len() != n {
                return Err(Error::bad_file(
                    path,
                    format!(
                        "array `{name}` has {} values, the coordinates make {n}",
                        v.len()
                    ),
                ));
            }
            arrays.push(v);
        }
        let fingerprint = if names.iter().any(|n| n == "fingerprint") {
            npz.i64("fingerprint")?.0.first().copied().unwrap_or(0)
        } else {
            0
        };
        let [train_loss, train_acc, test_loss, test_acc]: [Vec<f64>; 4] =
            arrays.try_into().expect("four arrays");
        Ok(Surface {
            xs,
            ys,
            train_loss,
            train_acc,
            test_loss,
            test_acc,
            fingerprint,
        })
    }

    /// Joins shards of one computation: each point is taken from the shard that filled it. The
    /// shards must share coordinates and fingerprint, and no point may be filled twice with
    /// different values.
    pub fn merge(parts: &[(std::path::PathBuf, Surface)]) -> Result<Surface> {
        let (first_path, first) = parts
            .first()
            .ok_or_else(|| Error::invalid("merge needs at least one surface file"))?;
        let mut out = first.clone();
        for (path, s) in &parts[1..] {
            if s.xs != first.xs || s.ys != first.ys {
                return Err(Error::bad_file(
                    path,
                    format!("its coordinates differ from {}", first_path.display()),
                ));
            }
            if s.fingerprint != first.fingerprint {
                return Err(Error::bad_file(
                    path,
                    format!(
                        "it was computed for other directions or data than {}",
                        first_path.display()
                    ),
                ));
            }
            for i in 0..s.len() {
                if !s.is_filled(i) {
                    continue;
                }
                if out.is_filled(i) && out.train_loss[i].to_bits() != s.train_loss[i].to_bits() {
                    return Err(Error::bad_file(
                        path,
                        format!("point {i} is filled with another value in an earlier file"),
                    ));
                }
                out.train_loss[i] = s.train_loss[i];
                out.train_acc[i] = s.train_acc[i];
                out.test_loss[i] = s.test_loss[i];
                out.test_acc[i] = s.test_acc[i];
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests;
