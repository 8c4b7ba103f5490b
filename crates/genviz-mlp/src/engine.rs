//! The native MLP: forward, backward and batched evaluation on feature-major tiles.

use crate::kernels::{
    grad_weights, linear_backward_input, linear_backward_input_relu, linear_forward,
    linear_forward_relu, LANES,
};
use crate::spec::{Activation, Head, MlpSpec};
use genviz_core::network::evaluate_affine_points;
use genviz_core::{Affine, Batch, Dataset, Eval, Layout, Network, Result};
use rayon::prelude::*;
use std::ops::Range;
use std::sync::Arc;

/// Examples per tile. Tiles are a fixed function of the data size, never of the thread count,
/// and their partial sums are added in tile order, so results are bit-identical on any number
/// of threads. 128 keeps a tile's activations in L1/L2 for the paper's widths.
pub const MAX_TILE: usize = 128;

/// A multi-layer perceptron evaluated by genviz's own kernels.
#[derive(Clone, Debug)]
pub struct Mlp {
    spec: MlpSpec,
    layout: Arc<Layout>,
    widths: Vec<usize>,
    /// Offsets of each layer's weight and bias in the flat parameter vector.
    offsets: Vec<(usize, usize)>,
    /// Training FLOPs from which [`Network::loss_grad`] spreads its tiles over threads: when
    /// called from outside a rayon pool, and from one of its workers.
    parallel_min_flops: [f64; 2],
}

/// Training FLOPs (forward and backward) of one [`Network::loss_grad`] call, made from a
/// thread outside the rayon pool, below which its tiles run one after the other on the calling
/// thread. Such a call hands the tiles to the pool's workers and sleeps until they are done:
/// tens of microseconds, a large part of the paper's swiss-roll step (about 4.2 MFLOP, 0.06 ms
/// on one core). Measured in `genviz-train`'s `speed` example on the shared 2-core machine,
/// every step from the calling thread: tiles handed over 0.085-0.09 s per 1,000 steps, on the
/// calling thread 0.06. (`genviz_train::train` runs its steps on a pool worker instead, see
/// [`Network::steps_on_pool`], where [`PARALLEL_MIN_FLOPS_ON_WORKER`] applies.) Either way the
/// tiles are the same and are added in the same order, so the bits are the same.
pub const PARALLEL_MIN_FLOPS: f64 = 8e6;

/// The same threshold for a call made on a worker of a pool of two or more threads (a run
/// inside `ThreadPool::install`, or one of many runs in parallel): there a fork-join costs a
/// few microseconds, and a second idle core cut the swiss-roll step by about a third
/// (0.047-0.052 s against 0.068-0.076 per 1,000 steps with main's kernels, the other core
/// idle; with it busy, split and unsplit steps measured the same). A pool of one thread
/// (`genviz_train::train_many` gives each network one) never splits.
pub const PARALLEL_MIN_FLOPS_ON_WORKER: f64 = 2e6;

/// One tile's activations: `acts[0]` is the input, `acts[l]` layer `l`'s output (logits last),
/// each feature-major `[width, cols]`.
struct Tile {
    cols: usize,
    n: usize,
    acts: Vec<Vec<f32>>,
}

impl Drop for Tile {
    fn drop(&mut self) {
        for buffer in self.acts.drain(..) {
            scratch::give(buffer);
        }
    }
}

/// Per-thread reuse of activation buffers: a training step would otherwise allocate and zero
/// every layer's activations for every tile (measured: about 10% of a swiss-roll step).
mod scratch {
    use std::cell::RefCell;

    /// Buffers kept per thread, at most.
    const KEEP: usize = 64;

    thread_local! {
        static POOL: RefCell<Vec<Vec<f32>>> = const { RefCell::new(Vec::new()) };
    }

    /// A buffer of `len` values whose contents are unspecified: callers overwrite all of it.
    ///
    /// Takes a kept buffer of exactly `len` values, or makes one: a step asks for the same
    /// few sizes every time, so after the first step every request finds its buffer and none
    /// is grown (and zero-filled) again, as reusing buffers of other sizes would.
    pub fn take(len: usize) -> Vec<f32> {
        POOL.with(|p| {
            let mut pool = p.borrow_mut();
            pool.iter()
                .rposition(|b| b.len() == len)
                .map(|i| pool.swap_remove(i))
        })
        .unwrap_or_else(|| vec![0.0; len])
    }

    /// Returns a buffer to this thread's pool, in place of the oldest one when it is full
    /// (so buffers of sizes no longer asked for leave the pool).
    pub fn give(v: Vec<f32>) {
        POOL.with(|p| {
            let mut pool = p.borrow_mut();
            if pool.len() >= KEEP {
                pool.remove(0);
            }
            pool.push(v);
        });
    }
}

/// Examples per tile when evaluating (forward only): landscapes evaluate thousands of
/// parameter vectors, which already keep every core busy, so larger tiles that pay the
/// per-tile overhead once win. Fixed, so an evaluation never depends on how many vectors are
/// evaluated together.
pub const MAX_EVAL_TILE: usize = 256;

/// Inputs from which [`Network::evaluate_affine`] precomputes the first layer: below this,
/// the first layer costs less than the three extra arrays it reads (the paper's 2-D nets).
pub const AFFINE_MIN_INPUTS: usize = 8;

/// The training tiles covering `n` examples.
pub fn tiles(n: usize) -> Vec<Range<usize>> {
    tiles_of(n, MAX_TILE)
}

/// Tiles of at most `max` examples covering `n`, as even as padding allows.
fn tiles_of(n: usize, max: usize) -> Vec<Range<usize>> {
    if n == 0 {
        return Vec::new();
    }
    let count = n.div_ceil(max);
    let size = n.div_ceil(count).next_multiple_of(LANES).min(max);
    (0..n).step_by(size).map(|s| s..(s + size).min(n)).collect()
}

impl Mlp {
    /// Builds the network described by `spec`.
    pub fn new(spec: MlpSpec) -> Result<Self> {
        spec.validate()?;
        let layout = Arc::new(spec.layout());
        let widths = spec.widths();
        let offsets = (0..widths.len() - 1)
            .map(|k| {
                let w = layout
                    .get(&format!("layers.{k}.weight"))
                    .expect("layout has every layer");
                let b = layout
                    .get(&format!("layers.{k}.bias"))
                    .expect("layout has every layer");
                (w.offset, b.offset)
            })
            .collect();
        Ok(Mlp {
            spec,
            layout,
            widths,
            offsets,
            parallel_min_flops: [PARALLEL_MIN_FLOPS, PARALLEL_MIN_FLOPS_ON_WORKER],
        })
    }

    /// The same network with training steps of at least `from_outside` FLOPs split over
    /// threads when called from outside a rayon pool, and of at least `on_worker` FLOPs when
    /// called on a pool's worker (defaults [`PARALLEL_MIN_FLOPS`],
    /// [`PARALLEL_MIN_FLOPS_ON_WORKER`]; 0 splits every step of more than one tile,
    /// `f64::INFINITY` none). Only the speed changes, never a result.
    pub fn with_parallel_min_flops(mut self, from_outside: f64, on_worker: f64) -> Self {
        self.parallel_min_flops = [from_outside, on_worker];
        self
    }

    /// Forward and backward FLOPs of one training example: two per multiply-add, three passes
    /// (forward, input gradient, weight gradient).
    fn train_flops_per_example(&self) -> f64 {
        let macs: usize = self.widths.windows(2).map(|w| w[0] * w[1]).sum();
        6.0 * macs as f64
    }

    /// Whether a training step on `n` examples is worth spreading over threads.
    fn parallel(&self, n: usize) -> bool {
        let on_worker = rayon::current_thread_index().is_some();
        rayon::current_num_threads() > 1
            && self.train_flops_per_example() * n as f64
                >= self.parallel_min_flops[usize::from(on_worker)]
    }

    /// The spec this network was built from.
    pub fn spec(&self) -> &MlpSpec {
        &self.spec
    }

    /// Offsets of layer `k`'s weight and bias in the flat parameter vector.
    pub(crate) fn layer_offsets(&self, k: usize) -> (usize, usize) {
        self.offsets[k]
    }

    fn num_layers(&self) -> usize {
        self.widths.len() - 1
    }

    /// `n` row-major examples as a feature-major input tile, padded with zero columns.
    pub(crate) fn input_tile(&self, rows: &[f32], n: usize) -> (usize, Vec<f32>) {
        let cols = n.next_multiple_of(LANES).max(LANES);
        let d = self.widths[0];
        let mut input = scratch::take(d * cols);
        input.fill(0.0);
        for b in 0..n {
            for i in 0..d {
                input[i * cols + b] = rows[b * d + i];
            }
        }
        (cols, input)
    }

    /// Runs the forward pass of `n` row-major examples.
    fn forward(&self, theta: &[f32], rows: &[f32], n: usize) -> Tile {
        let (cols, input) = self.input_tile(rows, n);
        self.forward_from(theta, vec![input], cols, n)
    }

    /// Continues a forward pass whose first `acts.len()` activations are known.
    fn forward_from(&self, theta: &[f32], mut acts: Vec<Vec<f32>>, cols: usize, n: usize) -> Tile {
        for l in acts.len()..=self.num_layers() {
            let (n_in, n_out) = (self.widths[l - 1], self.widths[l]);
            let (wo, bo) = self.offsets[l - 1];
            let mut out = scratch::take(n_out * cols);
            let (w, bias) = (&theta[wo..wo + n_out * n_in], &theta[bo..bo + n_out]);
            let hidden = l < self.num_layers();
            if hidden && self.spec.activation == Activation::Relu {
                // ReLU in the kernel's registers: one pass over the output fewer.
                linear_forward_relu(w, bias, &acts[l - 1], &mut out, n_in, cols);
            } else {
                linear_forward(w, bias, &acts[l - 1], &mut out, n_in, cols);
                if hidden {
                    activate(self.spec.activation, &mut out);
                }
            }
            acts.push(out);
        }
        Tile { cols, n, acts }
    }

    /// Backpropagates `dz` (gradient of the loss with respect to the logits) through `tile`,
    /// writing every parameter's gradient into `grad`.
    fn backward(&self, theta: &[f32], tile: &Tile, mut dz: Vec<f32>, grad: &mut [f32]) {
        let cols = tile.cols;
        for l in (1..=self.num_layers()).rev() {
            let (n_in, n_out) = (self.widths[l - 1], self.widths[l]);
            let (wo, bo) = self.offsets[l - 1];
            let (gw, gb) = grad[wo..bo + n_out].split_at_mut(n_out * n_in);
            grad_weights(&dz, &tile.acts[l - 1], gw, gb, n_in, cols);
            if l > 1 {
                let mut da = scratch::take(n_in * cols);
                let w = &theta[wo..wo + n_out * n_in];
                let a = &tile.acts[l - 1];
                if self.spec.activation == Activation::Relu {
                    linear_backward_input_relu(w, &dz, a, &mut da, n_in, n_out, cols);
                } else {
                    linear_backward_input(w, &dz, &mut da, n_in, n_out, cols);
                    activation_backward(self.spec.activation, a, &mut da);
                }
                scratch::give(std::mem::replace(&mut dz, da));
            }
        }
        scratch::give(dz);
    }

    /// Logit of class `k` for column `b` of a tile.
    fn logit(tile: &Tile, k: usize, b: usize) -> f32 {
        tile.acts[tile.acts.len() - 1][k * tile.cols + b]
    }

    /// Loss and correctness of every example in `tile`, with optional gradient on the logits.
    fn head(
        &self,
        tile: &Tile,
        labels: &[u32],
        coef: Option<(&[f32], &[bool])>,
    ) -> (f64, usize, Vec<f32>) {
        let k_out = self.spec.output_dim();
        let mut dz = scratch::take(if coef.is_some() { k_out * tile.cols } else { 0 });
        // Padding columns carry no loss, so no gradient (the rest is written below).
        for row in dz.chunks_exact_mut(tile.cols) {
            row[tile.n..].fill(0.0);
        }
        let (mut loss, mut correct) = (0f64, 0usize);
        let mut z = vec![0f64; k_out];
        let mut grad_z = vec![0f64; k_out];
        for b in 0..tile.n {
            for (k, zk) in z.iter_mut().enumerate() {
                *zk = f64::from(Self::logit(tile, k, b));
            }
            let y = labels[b] as usize;
            let (c, reverse) = match coef {
                Some((c, r)) => (f64::from(c[b]), r[b]),
                None => (1.0, false),
            };
            let (l, predicted) = match self.spec.head {
                Head::Sigmoid => sigmoid_loss(z[0], y, reverse, &mut grad_z),
                Head::Softmax => softmax_loss(&z, y, reverse, &mut grad_z),
            };
            loss += c * l;
            correct += usize::from(predicted == y);
            if coef.is_some() {
                for k in 0..k_out {
                    dz[k * tile.cols + b] = (c * grad_z[k]) as f32;
                }
            }
        }
        (loss, correct, dz)
    }

    fn evaluate_one(&self, theta: &[f32], data: &Dataset) -> Eval {
        let parts: Vec<(f64, usize)> = tiles_of(data.len(), MAX_EVAL_TILE)
            .into_par_iter()
            .map(|r| {
                let tile = self.forward(
                    theta,
                    &data.features()[r.start * data.dim()..r.end * data.dim()],
                    r.len(),
                );
                let (loss, correct, _) = self.head(&tile, &data.labels()[r], None);
                (loss, correct)
            })
            .collect();
        let n = data.len().max(1) as f64;
        let (loss, correct) = parts.iter().fold((0.0, 0), |(l, c), p| (l + p.0, c + p.1));
        Eval {
            loss: loss / n,
            accuracy: correct as f64 / n,
        }
    }
}

/// Sigmoid cross-entropy on one logit. The reverse loss `-log(1 - p_y)` of a binary classifier
/// is the ordinary loss with the other label, so it flips the target.
fn sigmoid_loss(z: f64, y: usize, reverse: bool, grad: &mut [f64]) -> (f64, usize) {
    let target = if reverse { 1 - y.min(1) } else { y.min(1) } as f64;
    // softplus(z) - target * z, computed without overflow.
    let e = (-z.abs()).exp();
    let loss = z.max(0.0) - target * z + e.ln_1p();
    let sigmoid = if z >= 0.0 {
        1.0 / (1.0 + e)
    } else {
        e / (1.0 + e)
    };
    grad[0] = sigmoid - target;
    (loss, usize::from(z > 0.0))
}

/// Softmax cross-entropy of one example from its logits `z`, with `dloss/dz` written into
/// `grad`, and the predicted class (the first largest logit); the reverse form is
/// `-log(1 - p_y) = lse(z) - lse_{j != y}(z)`, computed from logits so it stays finite when
/// `p_y` rounds to 1. Public for the other engines that score softmax logits on the host
/// (genviz-conv's CPU CNN), so one formula serves all.
pub fn softmax_loss(z: &[f64], y: usize, reverse: bool, grad: &mut [f64]) -> (f64, usize) {
    let max = z.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
    let sum: f64 = z.iter().map(|v| (v - max).exp()).sum();
    let lse = max + sum.ln();
    let mut predicted = 0;
    for (k, &v) in z.iter().enumerate() {
        grad[k] = (v - lse).exp();
        if v > z[predicted] {
            predicted = k;
        }
    }
    let loss = if !reverse {
        grad[y] -= 1.0;
        lse - z[y]
    } else {
        let max_other = z
            .iter()
            .enumerate()
            .filter(|&(k, _)| k != y)
            .map(|(_, &v)| v)
            .fold(f64::NEG_INFINITY, f64::max);
        let sum_other: f64 = z
            .iter()
            .enumerate()
            .filter(|&(k, _)| k != y)
            .map(|(_, &v)| (v - max_other).exp())
            .sum();
        let lse_other = max_other + sum_other.ln();
        for (k, &v) in z.iter().enumerate() {
            if k != y {
                grad[k] -= (v - lse_other).exp();
            }
        }
        lse - lse_other
    };
    (loss, predicted)
}

fn activate(act: Activation, v: &mut [f32]) {
    match act {
        Activation::Relu => v.iter_mut().for_each(|x| *x = x.max(0.0)),
        Activation::Tanh => v.iter_mut().for_each(|x| *x = x.tanh()),
        Activation::LeakyRelu { slope } => v
            .iter_mut()
            .for_each(|x| *x = if *x < 0.0 { *x * slope } else { *x }),
    }
}

/// Multiplies `grad` by the activation's derivative, expressed through its output `a`.
fn activation_backward(act: Activation, a: &[f32], grad: &mut [f32]) {
    match act {
        // Selects rather than branches, so the loops vectorise.
        Activation::Relu => grad
            .iter_mut()
            .zip(a)
            .for_each(|(g, &a)| *g = if a > 0.0 { *g } else { 0.0 }),
        Activation::Tanh => grad.iter_mut().zip(a).for_each(|(g, &a)| *g *= 1.0 - a * a),
        Activation::LeakyRelu { slope } => grad
            .iter_mut()
            .zip(a)
            .for_each(|(g, &a)| *g *= if a > 0.0 { 1.0 } else { slope }),
    }
}

impl Network for Mlp {
    fn layout(&self) -> &Arc<Layout> {
        &self.layout
    }

    fn num_classes(&self) -> usize {
        self.spec.num_classes
    }

    fn evaluate(&self, thetas: &[&[f32]], data: &Dataset) -> Vec<Eval> {
        thetas
            .par_iter()
            .map(|theta| self.evaluate_one(theta, data))
            .collect()
    }

    /// The first layer's pre-activation at `center + a x + b y` is `P0 + a P1 + b P2`, where
    /// `P0`, `P1`, `P2` are the first layers of `center`, `x` and `y` applied to the data: computed
    /// once per batch of points, they replace each point's first layer when it is wide enough
    /// to pay ([`AFFINE_MIN_INPUTS`]).
    fn evaluate_affine(&self, plane: Affine<'_>, ab: &[(f64, f64)], data: &Dataset) -> Vec<Eval> {
        if self.widths[0] < AFFINE_MIN_INPUTS || self.num_layers() < 2 {
            return evaluate_affine_points(self, plane, ab, data);
        }
        let (h1, d) = (self.widths[1], self.widths[0]);
        let (wo, bo) = self.offsets[0];
        let first = |theta: &[f32], input: &[f32], cols: usize| {
            let mut out = vec![0f32; h1 * cols];
            linear_forward(
                &theta[wo..wo + h1 * d],
                &theta[bo..bo + h1],
                input,
                &mut out,
                d,
                cols,
            );
            out
        };
        let tiles = tiles_of(data.len(), MAX_EVAL_TILE);
        let pre: Vec<(usize, [Vec<f32>; 3])> = tiles
            .par_iter()
            .map(|r| {
                let (cols, input) =
                    self.input_tile(&data.features()[r.start * d..r.end * d], r.len());
                let p = [
                    first(plane.center, &input, cols),
                    first(plane.x, &input, cols),
                    plane
                        .y
                        .map_or_else(|| vec![0f32; h1 * cols], |y| first(y, &input, cols)),
                ];
                scratch::give(input);
                (cols, p)
            })
            .collect();
        let len = plane.center.len();
        ab.par_iter()
            .map(|&(a, b)| {
                let mut theta = scratch::take(len);
                plane.point(a, b, &mut theta);
                let (af, bf) = (a as f32, b as f32);
                let (mut loss, mut correct) = (0f64, 0usize);
                for (r, (cols, p)) in tiles.iter().zip(&pre) {
                    let mut z = scratch::take(h1 * cols);
                    for i in 0..z.len() {
                        z[i] = p[0][i] + af * p[1][i] + bf * p[2][i];
                    }
                    activate(self.spec.activation, &mut z);
                    let tile = self.forward_from(&theta, vec![Vec::new(), z], *cols, r.len());
                    let (l, c, _) = self.head(&tile, &data.labels()[r.clone()], None);
                    loss += l;
                    correct += c;
                }
                scratch::give(theta);
                let n = data.len().max(1) as f64;
                Eval {
                    loss: loss / n,
                    accuracy: correct as f64 / n,
                }
            })
            .collect()
    }

    /// Exact, by the R-operator (see [`crate::hvp`]).
    fn hvp(&self, theta: &[f32], v: &[f32], data: &Dataset) -> Vec<f64> {
        self.hvp_exact(theta, v, data)
    }

    /// The tiles' losses and gradients are added in tile order, starting from zero, whichever
    /// thread computed them: `((0 + g_0) + g_1) + ...`, so the bits never depend on the thread
    /// count. Small batches run their tiles on the calling thread
    /// ([`PARALLEL_MIN_FLOPS`], [`PARALLEL_MIN_FLOPS_ON_WORKER`]).
    fn loss_grad(&self, theta: &[f32], batch: &Batch<'_>, grad: &mut [f32]) -> f64 {
        let data = batch.data;
        let d = data.dim();
        // Backward overwrites every entry of `out`: each layer's weights and bias.
        let run = |r: Range<usize>, out: &mut [f32]| {
            let tile = self.forward(theta, &data.features()[r.start * d..r.end * d], r.len());
            let (loss, _, dz) = self.head(
                &tile,
                &data.labels()[r.clone()],
                Some((&batch.coef[r.clone()], &batch.reverse[r])),
            );
            self.backward(theta, &tile, dz, out);
            loss
        };
        let ranges = tiles(data.len());
        let Some((first, rest)) = ranges.split_first() else {
            grad.iter_mut().for_each(|g| *g = 0.0);
            return 0.0;
        };
        if !self.parallel(data.len()) || rest.is_empty() {
            // The first tile straight into `grad`, the others through one buffer; `0 + g`
            // turns the first tile's -0 into +0 as adding it to zeros did.
            let mut loss = 0.0 + run(first.clone(), grad);
            grad.iter_mut().for_each(|g| *g += 0.0);
            let mut part = scratch::take(theta.len());
            for r in rest {
                loss += run(r.clone(), &mut part);
                grad.iter_mut().zip(&part).for_each(|(a, b)| *a += b);
            }
            scratch::give(part);
            return loss;
        }
        let parts: Vec<(f64, Vec<f32>)> = ranges
            .into_par_iter()
            .map(|r| {
                let mut g = scratch::take(theta.len());
                let loss = run(r, &mut g);
                (loss, g)
            })
            .collect();
        grad.iter_mut().for_each(|g| *g = 0.0);
        let mut loss = 0.0;
        // Tile order, whatever thread computed each tile.
        for (l, g) in parts {
            loss += l;
            grad.iter_mut().zip(&g).for_each(|(a, b)| *a += b);
            scratch::give(g);
        }
        loss
    }

    /// Yes: the engine keeps nothing per thread but reusable buffers.
    fn steps_on_pool(&self) -> bool {
        true
    }

    fn logits(&self, theta: &[f32], inputs: &[f32], n: usize) -> Vec<f32> {
        let d = self.widths[0];
        let k_out = self.spec.output_dim();
        let parts: Vec<Vec<f32>> = tiles(n)
            .into_par_iter()
            .map(|r| {
                let tile = self.forward(theta, &inputs[r.start * d..r.end * d], r.len());
                let mut out = Vec::with_capacity(r.len() * k_out);
                for b in 0..r.len() {
                    for k in 0..k_out {
                        out.push(Self::logit(&tile, k, b));
                    }
                }
                out
            })
            .collect();
        parts.concat()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tiles_cover_everything_in_padded_blocks() {
        assert_eq!(tiles(0), vec![]);
        assert_eq!(tiles(200), vec![0..104, 104..200]);
        assert_eq!(tiles(5), vec![0..5]);
        let t = tiles(1000);
        assert_eq!(t.last().unwrap().end, 1000);
        assert!(t.iter().all(|r| r.len() <= MAX_TILE));
    }
}
