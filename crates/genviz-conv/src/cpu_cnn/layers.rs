//! The data movements around the dense kernel: images to channel planes, convolution windows to
//! im2col rows and back, 2x2 max pooling and its backward pass, pooled maps to dense features.
//!
//! Activations are channel-major, `[channels, stride]`: row `c` holds channel `c` of every
//! image of the chunk one after the other (image `i`'s `h x w` plane at `c * stride + i * h *
//! w`), so a convolution is one product of its `[out, in * k * k]` kernel with the im2col
//! matrix, whose columns are the chunk's output pixels. `stride` is the pixel count rounded up
//! to the kernel's [`LANES`]; the extra columns are zero wherever a product reads them.
//!
//! None of these functions adds or multiplies except [`col2im`], whose sums run in a fixed
//! order, so each output is the same whatever the chunking.

use genviz_mlp::kernels::LANES;

/// `n` rounded up to a whole number of kernel lanes.
pub(crate) fn padded(n: usize) -> usize {
    n.next_multiple_of(LANES)
}

/// A chunk of `images` images of `channels` planes of `height x width`, channel-major.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Planes {
    pub channels: usize,
    pub images: usize,
    pub height: usize,
    pub width: usize,
}

impl Planes {
    /// Pixels of one plane.
    pub fn area(&self) -> usize {
        self.height * self.width
    }

    /// Columns of a channel row, padded to the kernel's lanes.
    pub fn stride(&self) -> usize {
        padded(self.images * self.area())
    }

    /// Values of the whole `[channels, stride]` buffer.
    pub fn len(&self) -> usize {
        self.channels * self.stride()
    }

    /// The same images after 2x2 max pooling (PyTorch's floor mode: an odd last row or column
    /// is dropped).
    pub fn pooled(&self) -> Planes {
        Planes {
            height: self.height / 2,
            width: self.width / 2,
            ..*self
        }
    }
}

/// Row-major images (`[images, channels * height * width]`, NCHW) to channel-major planes.
pub(crate) fn images_to_planes(rows: &[f32], shape: Planes, out: &mut [f32]) {
    let (area, stride) = (shape.area(), shape.stride());
    let per_image = shape.channels * area;
    assert!(rows.len() == shape.images * per_image && out.len() >= shape.len());
    for c in 0..shape.channels {
        let row = &mut out[c * stride..(c + 1) * stride];
        for i in 0..shape.images {
            row[i * area..(i + 1) * area]
                .copy_from_slice(&rows[i * per_image + c * area..][..area]);
        }
        row[shape.images * area..].fill(0.0);
    }
}

/// The im2col matrix of a stride-1 convolution with a `k x k` kernel and zero padding `pad`
/// on every side (output planes as large as the input's, `k = 2 pad + 1`): row `(c, ky, kx)`
/// (PyTorch's kernel order), column = output pixel, value = the input pixel under that kernel
/// tap, zero outside the image. `out` is `[channels * k * k, input.stride()]`, padding
/// columns included; `framed` is scratch.
///
/// Each plane is first copied into a frame of `pad` zeros, so that every line of every row
/// is one unconditional copy of `width` values from the frame.
pub(crate) fn im2col(
    input: &[f32],
    shape: Planes,
    k: usize,
    pad: usize,
    framed: &mut Vec<f32>,
    out: &mut [f32],
) {
    let (h, w, area, stride) = (shape.height, shape.width, shape.area(), shape.stride());
    assert!(k == 2 * pad + 1 && out.len() >= shape.channels * k * k * stride);
    let (fw, fh) = (w + 2 * pad, h + 2 * pad);
    framed.clear();
    framed.resize(fw * fh, 0.0);
    for c in 0..shape.channels {
        let rows = &mut out[c * k * k * stride..(c + 1) * k * k * stride];
        for i in 0..shape.images {
            let plane = &input[c * stride + i * area..][..area];
            for (y, line) in plane.chunks_exact(w).enumerate() {
                copy(&mut framed[(y + pad) * fw + pad..][..w], line);
            }
            for (tap, row) in rows.chunks_exact_mut(stride).enumerate() {
                let (ky, kx) = (tap / k, tap % k);
                let dst = &mut row[i * area..(i + 1) * area];
                for (y, line) in dst.chunks_exact_mut(w).enumerate() {
                    copy(line, &framed[(y + ky) * fw + kx..][..w]);
                }
            }
        }
        for row in rows.chunks_exact_mut(stride) {
            row[shape.images * area..].fill(0.0);
        }
    }
}

/// `dst = src` for short lines (`src` at least as long as `dst`), in blocks of 8 values, the
/// last block ending at the line's end (overlapping the one before it when the length is not
/// a multiple of 8): a call to `memcpy`, which is what a plain loop or `copy_from_slice`
/// becomes, costs more than copying the 14 or 28 values of a line, and so does a scalar tail.
#[inline(always)]
fn copy(dst: &mut [f32], src: &[f32]) {
    let n = dst.len();
    let block = |dst: &mut [f32], src: &[f32], at: usize| {
        let s: &[f32; 8] = src[at..at + 8].try_into().expect("a block of 8");
        let d: &mut [f32; 8] = (&mut dst[at..at + 8]).try_into().expect("a block of 8");
        *d = *s;
    };
    if n < 8 {
        dst.copy_from_slice(&src[..n]);
        return;
    }
    let mut at = 0;
    while at + 8 < n {
        block(dst, src, at);
        at += 8;
    }
    block(dst, src, n - 8);
}

/// The transpose of [`im2col`]: each input pixel's gradient is the sum of the im2col entries
/// that copied it, added row by row in kernel order. `out` is `[channels, shape.stride()]`.
pub(crate) fn col2im(cols: &[f32], shape: Planes, k: usize, pad: usize, out: &mut [f32]) {
    let (h, w, area, stride) = (shape.height, shape.width, shape.area(), shape.stride());
    assert!(out.len() >= shape.len());
    out[..shape.len()].fill(0.0);
    for (r, src) in cols
        .chunks_exact(stride)
        .take(shape.channels * k * k)
        .enumerate()
    {
        let (c, ky, kx) = (r / (k * k), r % (k * k) / k, r % k);
        let dst = &mut out[c * stride..];
        let x0 = pad.saturating_sub(kx);
        let x1 = (w + pad).saturating_sub(kx).min(w);
        if x0 >= x1 {
            continue;
        }
        for i in 0..shape.images {
            for y in 0..h {
                let sy = (y + ky).wrapping_sub(pad);
                if sy >= h {
                    continue;
                }
                let to = i * area + sy * w + x0 + kx - pad;
                let from = &src[i * area + y * w + x0..][..x1 - x0];
                for (d, &s) in dst[to..to + (x1 - x0)].iter_mut().zip(from) {
                    *d += s;
                }
            }
        }
    }
}

/// 2x2 max pooling with stride 2 of every plane of `input` (shape `shape`) into `out`
/// (shape `shape.pooled()`).
pub(crate) fn max_pool(input: &[f32], shape: Planes, out: &mut [f32]) {
    let pooled = shape.pooled();
    let (w, area, stride) = (shape.width, shape.area(), shape.stride());
    let (pw, parea, pstride) = (pooled.width, pooled.area(), pooled.stride());
    for c in 0..shape.channels {
        for i in 0..shape.images {
            let src = &input[c * stride + i * area..][..area];
            let dst = &mut out[c * pstride + i * parea..][..parea];
            for (y, line) in dst.chunks_exact_mut(pw).enumerate() {
                let (top, bottom) = (&src[2 * y * w..][..w], &src[(2 * y + 1) * w..][..w]);
                let windows = top.chunks_exact(2).zip(bottom.chunks_exact(2));
                for (d, (t, b)) in line.iter_mut().zip(windows) {
                    *d = t[0].max(t[1]).max(b[0]).max(b[1]);
                }
            }
        }
    }
}

/// The backward pass of ReLU then [`max_pool`]: each pooled gradient goes to the first
/// largest pixel of its window (row by row, as PyTorch picks it) when that pixel's ReLU output
/// is positive; every other entry of `grad_in` (shape `shape`, padding columns included) is
/// zero. `activations` is the ReLU's output that was pooled.
pub(crate) fn max_pool_relu_backward(
    activations: &[f32],
    grad_pooled: &[f32],
    shape: Planes,
    grad_in: &mut [f32],
) {
    let pooled = shape.pooled();
    let (w, area, stride) = (shape.width, shape.area(), shape.stride());
    let (pw, parea, pstride) = (pooled.width, pooled.area(), pooled.stride());
    grad_in[..shape.len()].fill(0.0);
    for c in 0..shape.channels {
        for i in 0..shape.images {
            let base = c * stride + i * area;
            let src = &activations[base..][..area];
            let grads = &grad_pooled[c * pstride + i * parea..][..parea];
            for (p, &g) in grads.iter().enumerate() {
                let (y, x) = (2 * (p / pw), 2 * (p % pw));
                let taps = [
                    y * w + x,
                    y * w + x + 1,
                    (y + 1) * w + x,
                    (y + 1) * w + x + 1,
                ];
                let best = taps
                    .into_iter()
                    .reduce(|b, t| if src[t] > src[b] { t } else { b })
                    .expect("four taps");
                if src[best] > 0.0 {
                    grad_in[base + best] = g;
                }
            }
        }
    }
}

/// Pooled planes to dense features, feature-major: image `i` of the planes goes to column
/// `first + i` of `out`, a `[channels * area, cols]` matrix, as `out[(c * area + p), first + i]`
/// (PyTorch's `flatten(1)` order: channel, then row, then column). Other columns are left as
/// they are.
pub(crate) fn planes_to_features(
    planes: &[f32],
    shape: Planes,
    first: usize,
    cols: usize,
    out: &mut [f32],
) {
    let (area, stride) = (shape.area(), shape.stride());
    for c in 0..shape.channels {
        for p in 0..area {
            let row = &mut out[(c * area + p) * cols + first..][..shape.images];
            for (i, v) in row.iter_mut().enumerate() {
                *v = planes[c * stride + i * area + p];
            }
        }
    }
}

/// The transpose of [`planes_to_features`] (for the gradient): columns `first..first +
/// shape.images` of `features` back to planes, padding columns zero.
pub(crate) fn features_to_planes(
    features: &[f32],
    first: usize,
    cols: usize,
    shape: Planes,
    out: &mut [f32],
) {
    let (area, stride) = (shape.area(), shape.stride());
    for c in 0..shape.channels {
        for p in 0..area {
            let row = &features[(c * area + p) * cols + first..][..shape.images];
            for (i, &v) in row.iter().enumerate() {
                out[c * stride + i * area + p] = v;
            }
        }
        out[c * stride + shape.images * area..(c + 1) * stride].fill(0.0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shape(channels: usize, images: usize, height: usize, width: usize) -> Planes {
        Planes {
            channels,
            images,
            height,
            width,
        }
    }

    fn ramp(n: usize) -> Vec<f32> {
        (0..n).map(|i| ((i * 37) % 23) as f32 - 11.0).collect()
    }

    /// Input pixel `(c, i, y, x)` of channel-major planes, zero outside the image.
    fn at(planes: &[f32], s: Planes, c: usize, i: usize, y: isize, x: isize) -> f32 {
        if y < 0 || x < 0 || y >= s.height as isize || x >= s.width as isize {
            return 0.0;
        }
        planes[c * s.stride() + i * s.area() + y as usize * s.width + x as usize]
    }

    #[test]
    fn im2col_rows_are_the_shifted_images_and_col2im_is_its_transpose() {
        for (s, k) in [
            (shape(2, 3, 5, 7), 5),
            (shape(1, 2, 3, 2), 3),
            (shape(3, 1, 1, 4), 1),
        ] {
            let pad = k / 2;
            let mut planes = ramp(s.len());
            // Padding columns hold garbage that must never be read.
            for c in 0..s.channels {
                planes[c * s.stride() + s.images * s.area()..(c + 1) * s.stride()].fill(99.0);
            }
            let rows = s.channels * k * k;
            let mut cols = vec![f32::NAN; rows * s.stride()];
            im2col(&planes, s, k, pad, &mut Vec::new(), &mut cols);
            for r in 0..rows {
                let (c, ky, kx) = (r / (k * k), r % (k * k) / k, r % k);
                for col in 0..s.stride() {
                    let want = if col >= s.images * s.area() {
                        0.0
                    } else {
                        let (i, p) = (col / s.area(), col % s.area());
                        let (y, x) = ((p / s.width) as isize, (p % s.width) as isize);
                        at(
                            &planes,
                            s,
                            c,
                            i,
                            y + ky as isize - pad as isize,
                            x + kx as isize - pad as isize,
                        )
                    };
                    assert_eq!(cols[r * s.stride() + col], want, "{s:?} row {r} col {col}");
                }
            }
            // <im2col(x), g> = <x, col2im(g)> for any g: the adjoint.
            let g = ramp(rows * s.stride() + 5)[5..].to_vec();
            let mut back = vec![f32::NAN; s.len()];
            col2im(&g, s, k, pad, &mut back);
            let mut clean = planes.clone();
            for c in 0..s.channels {
                clean[c * s.stride() + s.images * s.area()..(c + 1) * s.stride()].fill(0.0);
            }
            let lhs: f64 = cols.iter().zip(&g).map(|(&a, &b)| f64::from(a * b)).sum();
            let rhs: f64 = clean
                .iter()
                .zip(&back)
                .map(|(&a, &b)| f64::from(a * b))
                .sum();
            assert_eq!(lhs, rhs, "{s:?}");
        }
    }

    #[test]
    fn pooling_takes_window_maxima_and_routes_gradients_to_the_first_positive_maximum() {
        let s = shape(2, 2, 5, 4); // odd height: the last row is dropped
        let mut a: Vec<f32> = ramp(s.len()).iter().map(|v| v.max(0.0)).collect();
        // A tie in the first window of channel 0, image 0: the first of the two wins.
        a[0] = 7.0;
        a[1] = 7.0;
        a[4] = 1.0;
        a[5] = 2.0;
        let p = s.pooled();
        let mut pooled = vec![f32::NAN; p.len()];
        max_pool(&a, s, &mut pooled);
        assert_eq!(pooled[0], 7.0);
        for c in 0..2 {
            for i in 0..2 {
                for y in 0..2 {
                    for x in 0..2 {
                        let want = [(0, 0), (0, 1), (1, 0), (1, 1)]
                            .iter()
                            .map(|&(dy, dx)| at(&a, s, c, i, 2 * y + dy, 2 * x + dx))
                            .fold(f32::NEG_INFINITY, f32::max);
                        let got = pooled[c * p.stride() + i * p.area() + (y * 2 + x) as usize];
                        assert_eq!(got, want);
                    }
                }
            }
        }
        let g: Vec<f32> = (0..p.len()).map(|i| 1.0 + i as f32).collect();
        let mut back = vec![f32::NAN; s.len()];
        max_pool_relu_backward(&a, &g, s, &mut back);
        assert_eq!((back[0], back[1]), (1.0, 0.0));
        let mut routed = 0;
        for (j, &v) in back.iter().enumerate() {
            if v != 0.0 {
                routed += 1;
                assert!(a[j] > 0.0, "gradient at a zero ReLU output");
            }
        }
        let windows_with_positive_max = pooled.iter().enumerate().filter(|&(j, &v)| {
            let col = j % p.stride();
            col < p.images * p.area() && v > 0.0
        });
        assert_eq!(routed, windows_with_positive_max.count());
    }

    #[test]
    fn features_are_pytorch_flatten_order_and_round_trip() {
        let s = shape(3, 5, 2, 3);
        let planes = ramp(s.len());
        // The five images land in columns 2..7 of 9.
        let (first, cols) = (2, 9);
        let mut features = vec![f32::NAN; s.channels * s.area() * cols];
        planes_to_features(&planes, s, first, cols, &mut features);
        for i in 0..s.images {
            for c in 0..s.channels {
                for p in 0..s.area() {
                    assert_eq!(
                        features[(c * s.area() + p) * cols + first + i],
                        planes[c * s.stride() + i * s.area() + p]
                    );
                }
            }
        }
        assert!(features[0].is_nan() && features[cols - 1].is_nan());
        let mut back = vec![f32::NAN; s.len()];
        features_to_planes(&features, first, cols, s, &mut back);
        for c in 0..s.channels {
            let valid = s.images * s.area();
            assert_eq!(
                back[c * s.stride()..][..valid],
                planes[c * s.stride()..][..valid]
            );
            assert!(back[c * s.stride() + valid..(c + 1) * s.stride()]
                .iter()
                .all(|&v| v == 0.0));
        }
        let rows: Vec<f32> = ramp(s.images * s.channels * s.area());
        let mut from_rows = vec![f32::NAN; s.len()];
        images_to_planes(&rows, s, &mut from_rows);
        assert_eq!(
            from_rows[s.stride() + 2 * s.area() + 4],
            rows[2 * 18 + 6 + 4]
        );
    }
}
