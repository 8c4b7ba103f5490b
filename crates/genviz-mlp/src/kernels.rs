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
    forward_with(w, bias, inp, out, n_in, cols, Epilogue::None);
}

/// [`linear_forward`] followed by ReLU (`x > 0 ? x : 0`), applied in registers before the
/// store rather than in a second pass over the output.
pub fn linear_forward_relu(
    w: &[f32],
    bias: &[f32],
    inp: &[f32],
    out: &mut [f32],
    n_in: usize,
    cols: usize,
) {
    forward_with(w, bias, inp, out, n_in, cols, Epilogue::Relu);
}

fn forward_with(
    w: &[f32],
    bias: &[f32],
    inp: &[f32],
    out: &mut [f32],
    n_in: usize,
    cols: usize,
    epilogue: Epilogue<'_>,
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
        epilogue,
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
    backward_with(w, dz, da, n_in, n_out, cols, Epilogue::None);
}

/// [`linear_backward_input`] through a ReLU whose output was `a` (`[n_in, cols]`):
/// `da[i, b]` is kept where `a[i, b] > 0` and is `0` elsewhere, applied in registers before the
/// store rather than in a second pass.
pub fn linear_backward_input_relu(
    w: &[f32],
    dz: &[f32],
    a: &[f32],
    da: &mut [f32],
    n_in: usize,
    n_out: usize,
    cols: usize,
) {
    assert!(a.len() >= n_in * cols);
    backward_with(w, dz, da, n_in, n_out, cols, Epilogue::Gate(a));
}

fn backward_with(
    w: &[f32],
    dz: &[f32],
    da: &mut [f32],
    n_in: usize,
    n_out: usize,
    cols: usize,
    epilogue: Epilogue<'_>,
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
        epilogue,
    );
}

/// Where weight `(r, k)` of a product lives: `w[r * row + k * col]`.
#[derive(Clone, Copy)]
struct WeightOrder {
    row: usize,
    col: usize,
}

/// What a product does to each finished output before storing it. Both kernel versions apply
/// it to the same finished sums, so it adds no rounding of its own.
#[derive(Clone, Copy)]
enum Epilogue<'a> {
    /// Stores the sums.
    None,
    /// `x > 0 ? x : 0` (what `f32::max(x, 0.0)` compiles to: NaN and -0 give +0).
    Relu,
    /// Keeps output `(r, b)` where `gate[r * cols + b] > 0`, else `+0`: the ReLU derivative
    /// expressed through the layer's output.
    Gate(&'a [f32]),
}

/// `out[r, b] = bias[r] + sum_k w(r, k) * inp[k, b]` for `rows` outputs and `inner` inputs,
/// then the epilogue.
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
    epilogue: Epilogue<'_>,
) {
    assert!(cols.is_multiple_of(LANES));
    assert!(inp.len() >= inner * cols && out.len() >= rows * cols);
    assert!(bias.is_none_or(|b| b.len() == rows));
    assert!(rows == 0 || inner == 0 || (rows - 1) * order.row + (inner - 1) * order.col < w.len());
    if let Epilogue::Gate(g) = epilogue {
        assert!(g.len() >= rows * cols);
    }
    #[cfg(target_arch = "x86_64")]
    if has_avx2() {
        // SAFETY: the CPU supports AVX2 and FMA (checked above); every index stays within the
        // slices, whose lengths were checked above.
        unsafe { avx2::strided_product(w, order, bias, inp, out, rows, inner, cols, epilogue) };
        return;
    }
    portable_strided_product(w, order, bias, inp, out, rows, inner, cols, epilogue);
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
    #[cfg(target_arch = "x86_64")]
    if has_avx2() {
        // SAFETY: as in `linear_forward`.
        unsafe {
            avx2::row_sums(dz, db, cols);
            avx2::grad_weights(dz, a, dw, n_in, cols);
        }
        return;
    }
    for (o, dbo) in db.iter_mut().enumerate() {
        *dbo = row_sum(&dz[o * cols..(o + 1) * cols]);
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
    epilogue: Epilogue<'_>,
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
        match epilogue {
            Epilogue::None => {}
            Epilogue::Relu => row
                .iter_mut()
                .for_each(|x| *x = if *x > 0.0 { *x } else { 0.0 }),
            Epilogue::Gate(g) => row
                .iter_mut()
                .zip(&g[r * cols..(r + 1) * cols])
                .for_each(|(x, &a)| *x = if a > 0.0 { *x } else { 0.0 }),
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
    use super::{Epilogue, WeightOrder, ROWS, VEC};
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
        epilogue: Epilogue<'_>,
    ) {
        let p = Product {
            w: w.as_ptr(),
            order,
            bias: bias.map(|b| b.as_ptr()),
            inp: inp.as_ptr(),
            out: out.as_mut_ptr(),
            inner,
            cols,
            gate: match epilogue {
                Epilogue::Gate(g) => Some(g.as_ptr()),
                _ => None,
            },
            relu: matches!(epilogue, Epilogue::Relu),
        };
        // Column panels outside, rows inside: a panel of the input (`inner` rows of 16
        // columns) is read from memory once and stays in the L1 cache for every row block,
        // instead of the whole input streaming past once per row block. (The order of the
        // tiles changes no sum: each output is its own chain of multiply-adds.)
        let mut b = 0;
        while b < cols {
            // Two vectors of columns where they fit, one for the last 8. (Three, 12
            // accumulators, leave too few of AVX2's 16 registers: measured 25% slower.)
            let c = ((cols - b) / VEC).min(2);
            let mut r = 0;
            while r < rows {
                let block = (rows - r).min(ROWS);
                match (block, c) {
                    (4, 2) => product_tile::<4, 2>(&p, r, b),
                    (4, _) => product_tile::<4, 1>(&p, r, b),
                    (3, 2) => product_tile::<3, 2>(&p, r, b),
                    (3, _) => product_tile::<3, 1>(&p, r, b),
                    (2, 2) => product_tile::<2, 2>(&p, r, b),
                    (2, _) => product_tile::<2, 1>(&p, r, b),
                    (_, 2) => product_tile::<1, 2>(&p, r, b),
                    _ => product_tile::<1, 1>(&p, r, b),
                }
                r += block;
            }
            b += c * VEC;
        }
    }

    /// One product's operands, as the checked slices' pointers.
    struct Product {
        w: *const f32,
        order: WeightOrder,
        bias: Option<*const f32>,
        inp: *const f32,
        out: *mut f32,
        inner: usize,
        cols: usize,
        gate: Option<*const f32>,
        relu: bool,
    }

    /// Rows `r0..r0+R`, columns `b..b+8C`: `R x C` accumulators in registers, each the chain of
    /// fused multiply-adds over `k` in order, from the bias; then the epilogue and the store.
    #[inline(always)]
    unsafe fn product_tile<const R: usize, const C: usize>(p: &Product, r0: usize, b: usize) {
        let cols = p.cols;
        let mut acc = [[_mm256_setzero_ps(); C]; R];
        if let Some(bias) = p.bias {
            for (r, a) in acc.iter_mut().enumerate() {
                *a = [_mm256_set1_ps(*bias.add(r0 + r)); C];
            }
        }
        // Pointers bumped along k: weight (r0, k) and input row k at column b.
        let mut wp = p.w.add(r0 * p.order.row);
        let mut ip = p.inp.add(b);
        for _ in 0..p.inner {
            let mut x = [_mm256_setzero_ps(); C];
            for (c, xc) in x.iter_mut().enumerate() {
                *xc = _mm256_loadu_ps(ip.add(c * VEC));
            }
            for (r, a) in acc.iter_mut().enumerate() {
                let wv = _mm256_set1_ps(*wp.add(r * p.order.row));
                for c in 0..C {
                    a[c] = _mm256_fmadd_ps(wv, x[c], a[c]);
                }
            }
            wp = wp.add(p.order.col);
            ip = ip.add(cols);
        }
        let zero = _mm256_setzero_ps();
        for (r, a) in acc.iter().enumerate() {
            for (c, v) in a.iter().enumerate() {
                let at = (r0 + r) * cols + b + c * VEC;
                let mut v = *v;
                if p.relu {
                    // max(v, 0) is `v > 0 ? v : 0`, as the portable kernel writes it.
                    v = _mm256_max_ps(v, zero);
                } else if let Some(g) = p.gate {
                    let keep = _mm256_cmp_ps::<_CMP_GT_OQ>(_mm256_loadu_ps(g.add(at)), zero);
                    v = _mm256_and_ps(v, keep);
                }
                _mm256_storeu_ps(p.out.add(at), v);
            }
        }
    }

    /// `db[o] = sum_b dz[o, b]`, eight rows at a time: each row's 8 lanes are added as
    /// [`super::row_sum`] adds them, and the eight rows' lanes are reduced together
    /// ([`tree_sum8`]).
    #[target_feature(enable = "avx2,fma")]
    pub unsafe fn row_sums(dz: &[f32], db: &mut [f32], cols: usize) {
        let n_out = db.len();
        let dp = dz.as_ptr();
        let mut o = 0;
        while o < n_out {
            let rows = (n_out - o).min(VEC);
            let mut acc = [_mm256_setzero_ps(); VEC];
            let mut b = 0;
            while b < cols {
                for (r, a) in acc.iter_mut().enumerate().take(rows) {
                    *a = _mm256_add_ps(*a, _mm256_loadu_ps(dp.add((o + r) * cols + b)));
                }
                b += VEC;
            }
            let mut sums = [0f32; VEC];
            _mm256_storeu_ps(sums.as_mut_ptr(), tree_sum8(acc));
            db[o..o + rows].copy_from_slice(&sums[..rows]);
            o += rows;
        }
    }

    #[target_feature(enable = "avx2,fma")]
    pub unsafe fn grad_weights(dz: &[f32], a: &[f32], dw: &mut [f32], n_in: usize, cols: usize) {
        let n_out = dw.len() / n_in.max(1);
        let mut o = 0;
        while o < n_out {
            let rows = (n_out - o).min(ROWS);
            // Up to 8 accumulators a tile whatever the rows left (a layer of 25 units ends in
            // one row: 8 inputs at a time keep 8 independent chains of multiply-adds in flight
            // where 2 would wait on the adds' latency). Each output is the same chain
            // whatever tile computes it.
            let widest = VEC / rows;
            let mut i = 0;
            while i < n_in {
                let left = (n_in - i).min(widest);
                let ins = match left {
                    8.. => 8,
                    4..=7 => 4,
                    2 | 3 => 2,
                    _ => 1,
                };
                match (rows, ins) {
                    (4, 2) => grad_tile::<4, 2>(dz, a, dw, o, i, n_in, cols),
                    (4, _) => grad_tile::<4, 1>(dz, a, dw, o, i, n_in, cols),
                    (3, 2) => grad_tile::<3, 2>(dz, a, dw, o, i, n_in, cols),
                    (3, _) => grad_tile::<3, 1>(dz, a, dw, o, i, n_in, cols),
                    (2, 4) => grad_tile::<2, 4>(dz, a, dw, o, i, n_in, cols),
                    (2, 2) => grad_tile::<2, 2>(dz, a, dw, o, i, n_in, cols),
                    (2, _) => grad_tile::<2, 1>(dz, a, dw, o, i, n_in, cols),
                    (_, 8) => grad_tile::<1, 8>(dz, a, dw, o, i, n_in, cols),
                    (_, 4) => grad_tile::<1, 4>(dz, a, dw, o, i, n_in, cols),
                    (_, 2) => grad_tile::<1, 2>(dz, a, dw, o, i, n_in, cols),
                    _ => grad_tile::<1, 1>(dz, a, dw, o, i, n_in, cols),
                }
                i += ins;
            }
            o += rows;
        }
    }

    /// `R x S` dot products over all columns, one 8-lane accumulator each, reduced together.
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
        let mut dp = dz.as_ptr().add(o0 * cols);
        let mut ap = a.as_ptr().add(i0 * cols);
        let mut acc = [[_mm256_setzero_ps(); S]; R];
        for _ in 0..cols / VEC {
            let mut x = [_mm256_setzero_ps(); S];
            for (s, xs) in x.iter_mut().enumerate() {
                *xs = _mm256_loadu_ps(ap.add(s * cols));
            }
            for (r, row) in acc.iter_mut().enumerate() {
                let d = _mm256_loadu_ps(dp.add(r * cols));
                for (s, cell) in row.iter_mut().enumerate() {
                    *cell = _mm256_fmadd_ps(d, x[s], *cell);
                }
            }
            dp = dp.add(VEC);
            ap = ap.add(VEC);
        }
        // R x S <= 8 accumulators, (r, s) at r * S + s; the rest zeros, never stored.
        let mut all = [_mm256_setzero_ps(); VEC];
        for (r, row) in acc.iter().enumerate() {
            for (s, cell) in row.iter().enumerate() {
                all[r * S + s] = *cell;
            }
        }
        let mut sums = [0f32; VEC];
        _mm256_storeu_ps(sums.as_mut_ptr(), tree_sum8(all));
        for r in 0..R {
            let at = (o0 + r) * n_in + i0;
            dw[at..at + S].copy_from_slice(&sums[r * S..(r + 1) * S]);
        }
    }

    /// Lane `j` of the result is [`tree_sum`] of `v[j]`, with the same additions of the same
    /// operands (so the same bits), eight vectors at once: the halves of each vector first
    /// (`l + l+4`), then pairs two apart, then neighbours, by 128-bit permutes and in-lane
    /// shuffles instead of eight separate horizontal reductions.
    #[inline(always)]
    unsafe fn tree_sum8(v: [__m256; VEC]) -> __m256 {
        // Lane j of the result comes from input order[j] of this pairing (see the shuffles).
        let [v0, v1, v2, v3, v4, v5, v6, v7] = v;
        let (u0, u1, u2, u3, u4, u5, u6, u7) = (v0, v4, v1, v5, v2, v6, v3, v7);
        // [x.lo + x.hi, y.lo + y.hi]: the four sums l + l+4 of two vectors.
        let halves = |x: __m256, y: __m256| {
            _mm256_add_ps(
                _mm256_permute2f128_ps::<0x20>(x, y),
                _mm256_permute2f128_ps::<0x31>(x, y),
            )
        };
        let (s01, s23, s45, s67) = (
            halves(u0, u1),
            halves(u2, u3),
            halves(u4, u5),
            halves(u6, u7),
        );
        // Per 128-bit lane [a0 + a2, a1 + a3] of two vectors.
        let pairs = |x: __m256, y: __m256| {
            _mm256_add_ps(
                _mm256_shuffle_ps::<0b01_00_01_00>(x, y),
                _mm256_shuffle_ps::<0b11_10_11_10>(x, y),
            )
        };
        let (p, q) = (pairs(s01, s23), pairs(s45, s67));
        // (a0 + a2) + (a1 + a3): low lane u0, u2, u4, u6; high lane u1, u3, u5, u7.
        _mm256_add_ps(
            _mm256_shuffle_ps::<0b10_00_10_00>(p, q),
            _mm256_shuffle_ps::<0b11_01_11_01>(p, q),
        )
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
        portable_strided_product(
            w,
            order,
            bias,
            inp,
            &mut out,
            rows,
            inner,
            cols,
            Epilogue::None,
        );
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

    /// The fused epilogues give the bits of a plain product followed by the separate pass
    /// the engine used to make (ReLU, or the ReLU derivative by the layer's output), in the
    /// dispatched and the portable kernel, on every tile shape (4 to 1 rows, 2 and 1 column
    /// vectors).
    #[test]
    fn fused_relu_and_gate_match_separate_passes_bit_for_bit() {
        for (n_in, n_out, cols) in [(23, 26, 104), (16, 7, 96), (5, 3, 8), (31, 1, 40)] {
            let w = order_sensitive(n_out * n_in, 31);
            let bias = values(n_out, 32);
            let inp = order_sensitive(n_in * cols, 33);
            let mut plain = vec![0.0; n_out * cols];
            linear_forward(&w, &bias, &inp, &mut plain, n_in, cols);
            let relu: Vec<f32> = plain.iter().map(|&x| x.max(0.0)).collect();
            let mut fused = vec![0.0; n_out * cols];
            linear_forward_relu(&w, &bias, &inp, &mut fused, n_in, cols);
            assert_same_bits(&fused, &relu);
            let order = WeightOrder { row: n_in, col: 1 };
            let mut slow = vec![0.0; n_out * cols];
            portable_strided_product(
                &w,
                order,
                Some(&bias),
                &inp,
                &mut slow,
                n_out,
                n_in,
                cols,
                Epilogue::Relu,
            );
            assert_same_bits(&slow, &relu);
            // Backward through the ReLU whose output is `inp` (gated where it is not positive).
            let dz = order_sensitive(n_out * cols, 34);
            let mut da = vec![0.0; n_in * cols];
            linear_backward_input(&w, &dz, &mut da, n_in, n_out, cols);
            let gated: Vec<f32> = da
                .iter()
                .zip(&inp)
                .map(|(&g, &a)| if a > 0.0 { g } else { 0.0 })
                .collect();
            assert!(gated.contains(&0.0) && gated.iter().any(|&g| g != 0.0));
            let mut fused = vec![0.0; n_in * cols];
            linear_backward_input_relu(&w, &dz, &inp, &mut fused, n_in, n_out, cols);
            assert_same_bits(&fused, &gated);
            let order = WeightOrder { row: 1, col: n_in };
            let mut slow = vec![0.0; n_in * cols];
            portable_strided_product(
                &w,
                order,
                None,
                &dz,
                &mut slow,
                n_in,
                n_out,
                cols,
                Epilogue::Gate(&inp),
            );
            assert_same_bits(&slow, &gated);
        }
    }

    /// The bias gradients (eight rows reduced together in the AVX2 kernel) keep the portable
    /// row sums' bits, for row counts that fill eight-row blocks and that do not.
    #[test]
    fn bias_gradients_keep_the_portable_row_sums() {
        for (n_out, cols) in [(31, 104), (8, 96), (3, 8), (17, 200)] {
            let dz = order_sensitive(n_out * cols, 41);
            let a = order_sensitive(2 * cols, 42);
            let mut dw = vec![0.0; n_out * 2];
            let mut db = vec![0.0; n_out];
            grad_weights(&dz, &a, &mut dw, &mut db, 2, cols);
            let want: Vec<f32> = dz.chunks_exact(cols).map(row_sum).collect();
            assert_same_bits(&db, &want);
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
