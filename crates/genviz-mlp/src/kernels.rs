//! The dense kernels of the engine, on feature-major tiles.
//!
//! Activations are stored feature-major (`[width, cols]`, one row per unit, one column per
//! example) so the innermost loops run over examples, contiguous and a multiple of
//! [`LANES`] long. Each kernel has an AVX2+FMA version, picked at run time, and a portable
//! version with exactly the same arithmetic: every output is the same chain of fused
//! multiply-adds in the same order, and dot products keep 8 partial sums (one per lane,
//! example `b` going to lane `b % 8`) added in a fixed tree. So every machine, with or without
//! AVX2, and every thread count gives the same bits.
//!
//! (Zen 4 runs AVX-512 as two 256-bit halves, so AVX2 reaches the same peak here; a hand
//! kernel was needed because LLVM left the blocked loops scalar.)

/// Columns are padded to a multiple of this (one AVX2 vector of `f32`).
pub const LANES: usize = 8;

/// Width of one hardware vector of `f32` in the AVX2 kernels, and of the portable lanes.
const VEC: usize = 8;

/// Output rows computed together (register blocking).
const ROWS: usize = 4;

/// `out[o, b] = bias[o] + sum_i w[o, i] * inp[i, b]` for a row-major `w` of `[n_out, n_in]`.
pub fn linear_forward(
    w: &[f32],
    bias: &[f32],
    inp: &[f32],
    out: &mut [f32],
    n_in: usize,
    cols: usize,
) {
    let n_out = bias.len();
    assert!(w.len() == n_out * n_in);
    strided_product(
        w,
        WeightOrder { row: n_in, col: 1 },
        Some(bias),
        inp,
        out,
        n_out,
        n_in,
        cols,
    );
}

/// `da[i, b] = sum_o w[o, i] * dz[o, b]`: backpropagation to a layer's input through its
/// row-major `w` of `[n_out, n_in]`, reading `w` transposed in place.
pub fn linear_backward_input(
    w: &[f32],
    dz: &[f32],
    da: &mut [f32],
    n_in: usize,
    n_out: usize,
    cols: usize,
) {
    assert!(w.len() == n_out * n_in);
    strided_product(
        w,
        WeightOrder { row: 1, col: n_in },
        None,
        dz,
        da,
        n_in,
        n_out,
        cols,
    );
}

/// Where weight `(r, k)` of a product lives: `w[r * row + k * col]`.
#[derive(Clone, Copy)]
struct WeightOrder {
    row: usize,
    col: usize,
}

/// `out[r, b] = bias[r] + sum_k w(r, k) * inp[k, b]` for `rows` outputs and `inner` inputs.
#[allow(clippy::too_many_arguments)]
fn strided_product(
    w: &[f32],
    order: WeightOrder,
    bias: Option<&[f32]>,
    inp: &[f32],
    out: &mut [f32],
    rows: usize,
    inner: usize,
    cols: usize,
) {
    assert!(cols.is_multiple_of(LANES));
    assert!(inp.len() >= inner * cols && out.len() >= rows * cols);
    assert!(bias.is_none_or(|b| b.len() == rows));
    assert!(rows == 0 || inner == 0 || (rows - 1) * order.row + (inner - 1) * order.col < w.len());
    #[cfg(target_arch = "x86_64")]
    if has_avx2() {
        // SAFETY: the CPU supports AVX2 and FMA (checked above); every index stays within the
        // slices, whose lengths were checked above.
        unsafe { avx2::strided_product(w, order, bias, inp, out, rows, inner, cols) };
        return;
    }
    portable_strided_product(w, order, bias, inp, out, rows, inner, cols);
}

/// `dw[o, i] = sum_b dz[o, b] * a[i, b]` and `db[o] = sum_b dz[o, b]` (overwriting both).
pub fn grad_weights(
    dz: &[f32],
    a: &[f32],
    dw: &mut [f32],
    db: &mut [f32],
    n_in: usize,
    cols: usize,
) {
    let n_out = db.len();
    assert!(cols.is_multiple_of(LANES) && dw.len() == n_out * n_in);
    assert!(dz.len() >= n_out * cols && a.len() >= n_in * cols);
    for (o, dbo) in db.iter_mut().enumerate() {
        *dbo = row_sum(&dz[o * cols..(o + 1) * cols]);
    }
    #[cfg(target_arch = "x86_64")]
    if has_avx2() {
        // SAFETY: as in `linear_forward`.
        unsafe { avx2::grad_weights(dz, a, dw, n_in, cols) };
        return;
    }
    portable_grad_weights(dz, a, dw, n_in, cols);
}

#[cfg(target_arch = "x86_64")]
fn has_avx2() -> bool {
    std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("fma")
}

/// Sum of a row in 8 lanes and a fixed tree (vectorises on any target).
fn row_sum(row: &[f32]) -> f32 {
    let mut acc = [0f32; VEC];
    for chunk in row.chunks_exact(VEC) {
        for l in 0..VEC {
            acc[l] += chunk[l];
        }
    }
    tree_sum(&acc)
}

/// Adds 8 lanes in the fixed order both kernel versions use.
#[inline(always)]
fn tree_sum(v: &[f32; VEC]) -> f32 {
    ((v[0] + v[4]) + (v[2] + v[6])) + ((v[1] + v[5]) + (v[3] + v[7]))
}

#[allow(clippy::too_many_arguments)]
fn portable_strided_product(
    w: &[f32],
    order: WeightOrder,
    bias: Option<&[f32]>,
    inp: &[f32],
    out: &mut [f32],
    rows: usize,
    inner: usize,
    cols: usize,
) {
    for r in 0..rows {
        let row = &mut out[r * cols..(r + 1) * cols];
        row.fill(bias.map_or(0.0, |b| b[r]));
        for k in 0..inner {
            let wv = w[r * order.row + k * order.col];
            let x = &inp[k * cols..(k + 1) * cols];
            for (acc, &xv) in row.iter_mut().zip(x) {
                *acc = wv.mul_add(xv, *acc);
            }
        }
    }
}

fn portable_grad_weights(dz: &[f32], a: &[f32], dw: &mut [f32], n_in: usize, cols: usize) {
    let n_out = dw.len() / n_in.max(1);
    for o in 0..n_out {
        let d = &dz[o * cols..(o + 1) * cols];
        for i in 0..n_in {
            let x = &a[i * cols..(i + 1) * cols];
            let mut acc = [0f32; VEC];
            for (dc, xc) in d.chunks_exact(VEC).zip(x.chunks_exact(VEC)) {
                for l in 0..VEC {
                    acc[l] = dc[l].mul_add(xc[l], acc[l]);
                }
            }
            dw[o * n_in + i] = tree_sum(&acc);
        }
    }
}

#[cfg(target_arch = "x86_64")]
mod avx2 {
    use super::{tree_sum, WeightOrder, ROWS, VEC};
    use std::arch::x86_64::*;

    #[target_feature(enable = "avx2,fma")]
    #[allow(clippy::too_many_arguments)]
    pub unsafe fn strided_product(
        w: &[f32],
        order: WeightOrder,
        bias: Option<&[f32]>,
        inp: &[f32],
        out: &mut [f32],
        rows: usize,
        inner: usize,
        cols: usize,
    ) {
        let mut r = 0;
        while r < rows {
            let block = (rows - r).min(ROWS);
            let mut b = 0;
            while b < cols {
                // Two vectors of columns where they fit, one for the last 8.
                let two = b + 2 * VEC <= cols;
                match (block, two) {
                    (4, true) => product_tile::<4, 2>(w, order, bias, inp, out, r, inner, cols, b),
                    (4, false) => product_tile::<4, 1>(w, order, bias, inp, out, r, inner, cols, b),
                    (3, true) => product_tile::<3, 2>(w, order, bias, inp, out, r, inner, cols, b),
                    (3, false) => product_tile::<3, 1>(w, order, bias, inp, out, r, inner, cols, b),
                    (2, true) => product_tile::<2, 2>(w, order, bias, inp, out, r, inner, cols, b),
                    (2, false) => product_tile::<2, 1>(w, order, bias, inp, out, r, inner, cols, b),
                    (_, true) => product_tile::<1, 2>(w, order, bias, inp, out, r, inner, cols, b),
                    (_, false) => product_tile::<1, 1>(w, order, bias, inp, out, r, inner, cols, b),
                }
                b += if two { 2 * VEC } else { VEC };
            }
            r += block;
        }
    }

    /// Rows `r0..r0+R`, columns `b..b+8C`: `R x C` accumulators in registers.
    #[inline(always)]
    #[allow(clippy::too_many_arguments)]
    unsafe fn product_tile<const R: usize, const C: usize>(
        w: &[f32],
        order: WeightOrder,
        bias: Option<&[f32]>,
        inp: &[f32],
        out: &mut [f32],
        r0: usize,
        inner: usize,
        cols: usize,
        b: usize,
    ) {
        let wp = w.as_ptr().add(r0 * order.row);
        let ip = inp.as_ptr();
        let op = out.as_mut_ptr();
        let mut acc = [[_mm256_setzero_ps(); C]; R];
        if let Some(bias) = bias {
            for (r, a) in acc.iter_mut().enumerate() {
                *a = [_mm256_set1_ps(bias[r0 + r]); C];
            }
        }
        for k in 0..inner {
            let mut x = [_mm256_setzero_ps(); C];
            for (c, xc) in x.iter_mut().enumerate() {
                *xc = _mm256_loadu_ps(ip.add(k * cols + b + c * VEC));
            }
            for (r, a) in acc.iter_mut().enumerate() {
                let wv = _mm256_set1_ps(*wp.add(r * order.row + k * order.col));
                for c in 0..C {
                    a[c] = _mm256_fmadd_ps(wv, x[c], a[c]);
                }
            }
        }
        for (r, a) in acc.iter().enumerate() {
            for (c, v) in a.iter().enumerate() {
                _mm256_storeu_ps(op.add((r0 + r) * cols + b + c * VEC), *v);
            }
        }
    }

    #[target_feature(enable = "avx2,fma")]
    pub unsafe fn grad_weights(dz: &[f32], a: &[f32], dw: &mut [f32], n_in: usize, cols: usize) {
        let n_out = dw.len() / n_in.max(1);
        let mut o = 0;
        while o < n_out {
            let rows = (n_out - o).min(ROWS);
            let mut i = 0;
            while i < n_in {
                let ins = (n_in - i).min(2);
                match (rows, ins) {
                    (4, 2) => grad_tile::<4, 2>(dz, a, dw, o, i, n_in, cols),
                    (4, _) => grad_tile::<4, 1>(dz, a, dw, o, i, n_in, cols),
                    (3, 2) => grad_tile::<3, 2>(dz, a, dw, o, i, n_in, cols),
                    (3, _) => grad_tile::<3, 1>(dz, a, dw, o, i, n_in, cols),
                    (2, 2) => grad_tile::<2, 2>(dz, a, dw, o, i, n_in, cols),
                    (2, _) => grad_tile::<2, 1>(dz, a, dw, o, i, n_in, cols),
                    (_, 2) => grad_tile::<1, 2>(dz, a, dw, o, i, n_in, cols),
                    _ => grad_tile::<1, 1>(dz, a, dw, o, i, n_in, cols),
                }
                i += ins;
            }
            o += rows;
        }
    }

    /// `R x S` dot products over all columns, one 8-lane accumulator each.
    #[inline(always)]
    unsafe fn grad_tile<const R: usize, const S: usize>(
        dz: &[f32],
        a: &[f32],
        dw: &mut [f32],
        o0: usize,
        i0: usize,
        n_in: usize,
        cols: usize,
    ) {
        let dp = dz.as_ptr();
        let ap = a.as_ptr();
        let mut acc = [[_mm256_setzero_ps(); S]; R];
        let mut b = 0;
        while b < cols {
            let mut x = [_mm256_setzero_ps(); S];
            for (s, xs) in x.iter_mut().enumerate() {
                *xs = _mm256_loadu_ps(ap.add((i0 + s) * cols + b));
            }
            for (r, row) in acc.iter_mut().enumerate() {
                let d = _mm256_loadu_ps(dp.add((o0 + r) * cols + b));
                for (s, cell) in row.iter_mut().enumerate() {
                    *cell = _mm256_fmadd_ps(d, x[s], *cell);
                }
            }
            b += VEC;
        }
        for (r, row) in acc.iter().enumerate() {
            for (s, cell) in row.iter().enumerate() {
                let mut lanes = [0f32; VEC];
                _mm256_storeu_ps(lanes.as_mut_ptr(), *cell);
                dw[(o0 + r) * n_in + i0 + s] = tree_sum(&lanes);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn naive_forward(w: &[f32], bias: &[f32], inp: &[f32], n_in: usize, cols: usize) -> Vec<f32> {
        let n_out = bias.len();
        let mut out = vec![0.0; n_out * cols];
        for o in 0..n_out {
            for b in 0..cols {
                let mut s = bias[o] as f64;
                for i in 0..n_in {
                    s += w[o * n_in + i] as f64 * inp[i * cols + b] as f64;
                }
                out[o * cols + b] = s as f32;
            }
        }
        out
    }

    /// The portable kernel's `rows x cols` product, to hold the dispatched one against.
    fn portable_product(
        w: &[f32],
        order: WeightOrder,
        bias: Option<&[f32]>,
        inp: &[f32],
        rows: usize,
        inner: usize,
        cols: usize,
    ) -> Vec<f32> {
        let mut out = vec![0.0; rows * cols];
        portable_strided_product(w, order, bias, inp, &mut out, rows, inner, cols);
        out
    }

    /// Asserts that two kernels' results are the same to the bit.
    fn assert_same_bits(a: &[f32], b: &[f32]) {
        assert_eq!(a.len(), b.len());
        assert!(a.iter().zip(b).all(|(x, y)| x.to_bits() == y.to_bits()));
    }

    fn values(n: usize, seed: u32) -> Vec<f32> {
        (0..n)
            .map(|i| {
                (((i as u32).wrapping_mul(2_654_435_761).wrapping_add(seed) >> 8) % 1000) as f32
                    / 500.0
                    - 1.0
            })
            .collect()
    }

    #[test]
    fn forward_matches_naive_for_ragged_sizes() {
        for (n_in, n_out, cols) in [
            (2, 23, 16),
            (23, 16, 48),
            (31, 1, 32),
            (5, 7, 80),
            (3, 9, 8),
            (4, 5, 24),
        ] {
            let w = values(n_out * n_in, 1);
            let bias = values(n_out, 2);
            let inp = values(n_in * cols, 3);
            let mut out = vec![0.0; n_out * cols];
            linear_forward(&w, &bias, &inp, &mut out, n_in, cols);
            let want = naive_forward(&w, &bias, &inp, n_in, cols);
            for (g, e) in out.iter().zip(&want) {
                assert!((g - e).abs() < 1e-4, "{g} vs {e}");
            }
        }
    }

    #[test]
    fn simd_and_portable_kernels_agree_bit_for_bit() {
        let (n_in, n_out, cols) = (23, 26, 112);
        let w = values(n_out * n_in, 7);
        let bias = values(n_out, 8);
        let inp = values(n_in * cols, 9);
        let mut fast = vec![0.0; n_out * cols];
        linear_forward(&w, &bias, &inp, &mut fast, n_in, cols);
        let order = WeightOrder { row: n_in, col: 1 };
        let slow = portable_product(&w, order, Some(&bias), &inp, n_out, n_in, cols);
        assert_same_bits(&fast, &slow);
        let mut dw_fast = vec![0.0; n_out * n_in];
        let mut db = vec![0.0; n_out];
        grad_weights(&fast, &inp, &mut dw_fast, &mut db, n_in, cols);
        let mut dw_slow = vec![0.0; n_out * n_in];
        portable_grad_weights(&fast, &inp, &mut dw_slow, n_in, cols);
        assert_same_bits(&dw_fast, &dw_slow);
    }

    #[test]
    fn backward_input_is_the_transposed_product() {
        let (n_in, n_out, cols) = (23, 26, 104);
        let w = values(n_out * n_in, 11);
        let dz = values(n_out * cols, 12);
        let mut da = vec![0.0; n_in * cols];
        linear_backward_input(&w, &dz, &mut da, n_in, n_out, cols);
        let mut wt = vec![0.0; n_in * n_out];
        for o in 0..n_out {
            for i in 0..n_in {
                wt[i * n_out + o] = w[o * n_in + i];
            }
        }
        let want = naive_forward(&wt, &vec![0.0; n_in], &dz, n_out, cols);
        for (g, e) in da.iter().zip(&want) {
            assert!((g - e).abs() < 1e-4, "{g} vs {e}");
        }
        let order = WeightOrder { row: 1, col: n_in };
        assert_same_bits(
            &da,
            &portable_product(&w, order, None, &dz, n_in, n_out, cols),
        );
    }

    /// Values whose sums depend on their order: magnitudes from 2^-12 to 2^12, so a kernel
    /// that paired its eight partial sums differently from [`tree_sum`] would round
    /// differently.
    fn order_sensitive(n: usize, seed: u32) -> Vec<f32> {
        values(n, seed)
            .iter()
            .enumerate()
            .map(|(k, v)| v * 2f32.powi((k * 7 % 25) as i32 - 12))
            .collect()
    }

    #[test]
    fn weight_gradients_keep_the_portable_summation_order_for_every_tile() {
        // Every tile shape of the AVX2 kernel (4, 3, 2, 1 rows by 2, 1 inputs), on the
        // paper's 200 columns and on one vector of them.
        for (n_in, n_out, cols) in [(23, 16, 200), (16, 26, 200), (5, 7, 8), (1, 3, 16)] {
            let dz = order_sensitive(n_out * cols, 21);
            let a = order_sensitive(n_in * cols, 22);
            let mut fast = vec![0.0; n_out * n_in];
            let mut db = vec![0.0; n_out];
            grad_weights(&dz, &a, &mut fast, &mut db, n_in, cols);
            let mut slow = vec![0.0; n_out * n_in];
            portable_grad_weights(&dz, &a, &mut slow, n_in, cols);
            assert_same_bits(&fast, &slow);
            // The order matters for these values: summing the lanes left to right instead
            // changes some results.
            let sequential: Vec<f32> = (0..n_out * n_in)
                .map(|k| {
                    let (o, i) = (k / n_in, k % n_in);
                    let mut acc = [0f32; VEC];
                    for b in 0..cols {
                        acc[b % VEC] = dz[o * cols + b].mul_add(a[i * cols + b], acc[b % VEC]);
                    }
                    acc.iter().sum()
                })
                .collect();
            if cols == 200 {
                assert!(fast.iter().zip(&sequential).any(|(x, y)| x != y));
            }
        }
    }

    #[test]
    fn weight_gradient_matches_naive() {
        let (n_in, n_out, cols) = (7, 6, 48);
        let dz = values(n_out * cols, 4);
        let a = values(n_in * cols, 5);
        let mut dw = vec![0.0; n_out * n_in];
        let mut db = vec![0.0; n_out];
        grad_weights(&dz, &a, &mut dw, &mut db, n_in, cols);
        for o in 0..n_out {
            let want_b: f64 = (0..cols).map(|b| dz[o * cols + b] as f64).sum();
            assert!((db[o] as f64 - want_b).abs() < 1e-4);
            for i in 0..n_in {
                let want: f64 = (0..cols)
                    .map(|b| dz[o * cols + b] as f64 * a[i * cols + b] as f64)
                    .sum();
                assert!((dw[o * n_in + i] as f64 - want).abs() < 1e-4);
            }
        }
    }
}
