//! Continuous colour maps (piecewise-linear through matplotlib's control colours) and the
//! value-to-colour scale shared by the landscape figures.

/// A colour map: control colours at evenly spaced positions from 0 to 1.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ColorMap(&'static [u32]);

/// matplotlib's "viridis" (perceptually uniform, dark purple to yellow), at 0, 0.1, ..., 1.
pub(crate) const VIRIDIS: ColorMap = ColorMap(&[
    0x440154, 0x482475, 0x414487, 0x355f8d, 0x2a788e, 0x21918c, 0x22a884, 0x44bf70, 0x7ad151,
    0xbddf26, 0xfde725,
]);

/// matplotlib's "coolwarm" (Moreland's diverging map, blue to grey to red), at 0, 1/8, ..., 1.
pub(crate) const COOLWARM: ColorMap = ColorMap(&[
    0x3b4cc0, 0x6282ea, 0x8db0fe, 0xb8d0f9, 0xdddddd, 0xf5c4ad, 0xf49a7b, 0xde604d, 0xb40426,
]);

/// matplotlib's "summer" (green to yellow), darkened a little so that its light end still
/// reads as a line on white.
pub(crate) const SUMMER: ColorMap = ColorMap(&[0x00765c, 0x78a550, 0xdec83c]);

/// matplotlib's "PuRd" from its middle on (light pink to dark red-purple): the light start
/// is left out so every colour reads as a dot on white.
pub(crate) const PURD_DARK: ColorMap = ColorMap(&[
    0xd4b9da, 0xc994c7, 0xdf65b0, 0xe7298a, 0xce1256, 0x980043, 0x67001f,
]);

/// matplotlib's "Blues" from its middle on (light to dark blue), likewise.
pub(crate) const BLUES_DARK: ColorMap =
    ColorMap(&[0x9ecae1, 0x6baed6, 0x4292c6, 0x2171b5, 0x08519c, 0x08306b]);

/// The red, green and blue bytes of `0xRRGGBB`, the way matplotlib's tables write colours.
pub(crate) const fn channels(hex: u32) -> [u8; 3] {
    [(hex >> 16) as u8, (hex >> 8) as u8, hex as u8]
}

impl ColorMap {
    /// The colour at `t` (clamped to `0..=1`; NaN gives the low end).
    pub(crate) fn at(self, t: f64) -> [f64; 3] {
        let t = if t.is_nan() { 0.0 } else { t.clamp(0.0, 1.0) };
        let n = self.0.len() - 1;
        let pos = t * n as f64;
        let i = (pos.floor() as usize).min(n - 1);
        let f = pos - i as f64;
        let (a, b) = (channels(self.0[i]), channels(self.0[i + 1]));
        [0, 1, 2].map(|c| a[c] as f64 + (b[c] as f64 - a[c] as f64) * f)
    }

    /// The colour at `t` as 8-bit RGB.
    pub(crate) fn rgb(self, t: f64) -> [u8; 3] {
        self.at(t).map(|c| c.round().clamp(0.0, 255.0) as u8)
    }
}

/// Maps values in `[lo, hi]` (linear or log10) to `0..=1`, clipping outside values.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Scale {
    pub lo: f64,
    pub hi: f64,
    pub log: bool,
}

impl Scale {
    /// Where `v` falls between `lo` (0) and `hi` (1), clipped; non-positive values on a log
    /// scale count as `lo`. NaN stays NaN.
    pub(crate) fn t(&self, v: f64) -> f64 {
        if v.is_nan() {
            return f64::NAN;
        }
        let t = if self.log {
            if v <= 0.0 {
                0.0
            } else {
                (v.log10() - self.lo.log10()) / (self.hi.log10() - self.lo.log10())
            }
        } else {
            (v - self.lo) / (self.hi - self.lo)
        };
        t.clamp(0.0, 1.0)
    }

    /// Tick values inside `[lo, hi]`: "nice" round numbers (about five) on a linear scale;
    /// powers of ten on a log scale, plus their 2x and 5x multiples when the range spans less
    /// than three decades.
    pub(crate) fn ticks(&self) -> Vec<f64> {
        let eps = (self.hi - self.lo).abs() * 1e-9;
        if self.log {
            let (a, b) = (
                self.lo.log10().floor() as i32,
                self.hi.log10().ceil() as i32,
            );
            let mults: &[f64] = if b - a <= 3 { &[1.0, 2.0, 5.0] } else { &[1.0] };
            let mut out = Vec::new();
            for e in a..=b {
                for m in mults {
                    let v = m * 10f64.powi(e);
                    if v >= self.lo * (1.0 - 1e-9) && v <= self.hi * (1.0 + 1e-9) {
                        out.push(v);
                    }
                }
            }
            if out.len() < 2 {
                out = vec![self.lo, self.hi];
            }
            out
        } else {
            let step = nice_step((self.hi - self.lo) / 5.0);
            let first = (self.lo / step).ceil() as i64;
            let last = (self.hi / step).floor() as i64;
            (first..=last)
                .map(|k| k as f64 * step)
                .filter(|v| *v >= self.lo - eps && *v <= self.hi + eps)
                .collect()
        }
    }
}

/// A round step (1, 2, 2.5 or 5 times a power of ten) close to `raw`.
pub(crate) fn nice_step(raw: f64) -> f64 {
    round_step(raw, &[(1.5, 1.0), (2.25, 2.0), (3.5, 2.5), (7.5, 5.0)])
}

/// `raw` rounded to a round step: with `raw = f * 10^k` (`1 <= f < 10`), the first `m` of
/// `mantissas` whose bound exceeds `f`, else 10, times `10^k`. 1 when `raw` is not positive.
pub(crate) fn round_step(raw: f64, mantissas: &[(f64, f64)]) -> f64 {
    if !(raw.is_finite() && raw > 0.0) {
        return 1.0;
    }
    let p = 10f64.powf(raw.log10().floor());
    let f = raw / p;
    let m = mantissas
        .iter()
        .find(|&&(bound, _)| f < bound)
        .map_or(10.0, |&(_, m)| m);
    m * p
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maps_hit_their_ends_and_clamp() {
        assert_eq!(VIRIDIS.rgb(0.0), [68, 1, 84]);
        assert_eq!(VIRIDIS.rgb(1.0), [253, 231, 37]);
        assert_eq!(VIRIDIS.rgb(7.0), [253, 231, 37]);
        assert_eq!(COOLWARM.rgb(-1.0), [59, 76, 192]);
        assert_eq!(COOLWARM.rgb(0.5), [221, 221, 221]);
    }

    #[test]
    fn scales_clip_and_tick() {
        let lin = Scale {
            lo: 0.1,
            hi: 10.0,
            log: false,
        };
        assert_eq!(lin.t(100.0), 1.0);
        assert_eq!(lin.t(-3.0), 0.0);
        assert_eq!(lin.ticks(), vec![2.0, 4.0, 6.0, 8.0, 10.0]);
        let log = Scale { log: true, ..lin };
        assert!((log.t(1.0) - 0.5).abs() < 1e-12);
        assert_eq!(log.t(0.0), 0.0);
        assert_eq!(log.ticks(), vec![0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0]);
    }
}
