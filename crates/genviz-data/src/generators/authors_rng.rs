//! The two random streams behind the authors' minefield split, reproduced draw for draw.
//!
//! gen-viz's `train_good_model.py` picks the 132 training points with CPython's
//! `random.sample` (after `random.seed(99)`) and halves the rest into "untraining" and test
//! points with NumPy's legacy `np.random.choice(..., replace=False)` (its generator re-seeded to
//! 0 by `generate_spiral_data`, which then draws 800 zero-variance normals). Both are
//! Mersenne Twisters; only their seeding and the way they turn words into choices differ. The
//! split decides how well a bad minimum *can* score on the test points (whether a test point's
//! labelled neighbours along the arm are true or flipped), so Fig 1 is only comparable with the
//! paper on the authors' own split, which this module rebuilds without Python.

/// MT19937 (Matsumoto and Nishimura), the generator of CPython's `random` and NumPy's
/// `RandomState`.
#[derive(Clone)]
pub(crate) struct Mt19937 {
    state: [u32; 624],
    index: usize,
}

impl Mt19937 {
    /// `init_genrand(seed)`: NumPy's `RandomState(seed)` for a 32-bit integer seed.
    pub(crate) fn numpy(seed: u32) -> Self {
        let mut state = [0u32; 624];
        state[0] = seed;
        for i in 1..624 {
            let prev = state[i - 1];
            state[i] = 1_812_433_253u32
                .wrapping_mul(prev ^ (prev >> 30))
                .wrapping_add(i as u32);
        }
        Mt19937 { state, index: 624 }
    }

    /// `init_by_array([seed])`: CPython's `random.seed(seed)` for `0 <= seed < 2^32`.
    pub(crate) fn python(seed: u32) -> Self {
        let key = [seed];
        let mut mt = Self::numpy(19_650_218);
        let s = &mut mt.state;
        let (mut i, mut j) = (1usize, 0usize);
        for _ in 0..624.max(key.len()) {
            let prev = s[i - 1];
            s[i] = (s[i] ^ (prev ^ (prev >> 30)).wrapping_mul(1_664_525))
                .wrapping_add(key[j])
                .wrapping_add(j as u32);
            i += 1;
            j += 1;
            if i >= 624 {
                s[0] = s[623];
                i = 1;
            }
            if j >= key.len() {
                j = 0;
            }
        }
        for _ in 0..623 {
            let prev = s[i - 1];
            s[i] =
                (s[i] ^ (prev ^ (prev >> 30)).wrapping_mul(1_566_083_941)).wrapping_sub(i as u32);
            i += 1;
            if i >= 624 {
                s[0] = s[623];
                i = 1;
            }
        }
        s[0] = 0x8000_0000;
        mt
    }

    /// The next 32-bit output.
    pub(crate) fn next_u32(&mut self) -> u32 {
        if self.index >= 624 {
            self.twist();
        }
        let mut y = self.state[self.index];
        self.index += 1;
        y ^= y >> 11;
        y ^= (y << 7) & 0x9d2c_5680;
        y ^= (y << 15) & 0xefc6_0000;
        y ^ (y >> 18)
    }

    fn twist(&mut self) {
        let s = &mut self.state;
        for i in 0..624 {
            let y = (s[i] & 0x8000_0000) | (s[(i + 1) % 624] & 0x7fff_ffff);
            let mag = if y & 1 == 1 { 0x9908_b0df } else { 0 };
            s[i] = s[(i + 397) % 624] ^ (y >> 1) ^ mag;
        }
        self.index = 0;
    }

    /// CPython's `_randbelow(n)` for `0 < n <= 2^32`: the top `bit_length(n)` bits of a word,
    /// redrawn until below `n`.
    fn python_below(&mut self, n: u64) -> u64 {
        let bits = 64 - n.leading_zeros();
        loop {
            let r = u64::from(self.next_u32()) >> (32 - bits);
            if r < n {
                return r;
            }
        }
    }

    /// CPython's `random.sample(range(n), k)` (the pool algorithm, which it uses for
    /// populations of a few thousand or fewer, as here).
    pub(crate) fn python_sample(&mut self, n: usize, k: usize) -> Vec<usize> {
        let mut pool: Vec<usize> = (0..n).collect();
        (0..k.min(n))
            .map(|i| {
                let j = self.python_below((n - i) as u64) as usize;
                let picked = pool[j];
                pool[j] = pool[n - i - 1];
                picked
            })
            .collect()
    }

    /// NumPy's legacy `random_sample()`: a 53-bit double from two words.
    fn numpy_double(&mut self) -> f64 {
        let a = f64::from(self.next_u32() >> 5);
        let b = f64::from(self.next_u32() >> 6);
        (a * 67_108_864.0 + b) / 9_007_199_254_740_992.0
    }

    /// Advances past `count` of NumPy's legacy normals (the polar method, which keeps the second
    /// value of each accepted pair for the next call). `count` must be even, so that no value is
    /// left cached, as when `generate_spiral_data` draws its two `[2, 200]` noise arrays.
    pub(crate) fn numpy_skip_normals(&mut self, count: usize) {
        debug_assert!(count.is_multiple_of(2));
        for _ in 0..count / 2 {
            loop {
                let x1 = 2.0 * self.numpy_double() - 1.0;
                let x2 = 2.0 * self.numpy_double() - 1.0;
                let r2 = x1 * x1 + x2 * x2;
                if r2 < 1.0 && r2 != 0.0 {
                    break;
                }
            }
        }
    }

    /// NumPy's legacy `permutation(n)`: a Fisher-Yates shuffle from the end whose indices come
    /// from masked, rejected words (`random_interval`).
    pub(crate) fn numpy_permutation(&mut self, n: usize) -> Vec<usize> {
        let mut order: Vec<usize> = (0..n).collect();
        for i in (1..n).rev() {
            let max = i as u32;
            let mut mask = max;
            for shift in [1, 2, 4, 8, 16] {
                mask |= mask >> shift;
            }
            let j = loop {
                let v = self.next_u32() & mask;
                if v <= max {
                    break v as usize;
                }
            };
            order.swap(i, j);
        }
        order
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Reference values printed by CPython 3.11 and NumPy 2.4 (legacy `np.random` functions).

    #[test]
    fn python_words_and_sample_match_cpython() {
        // random.seed(99); [random.getrandbits(32) for _ in range(3)]
        let mut mt = Mt19937::python(99);
        let words: Vec<u32> = (0..3).map(|_| mt.next_u32()).collect();
        assert_eq!(words, [1_735_072_617, 1_635_320_116, 859_317_502]);
        // random.seed(99); random.sample(range(400), 132)[:8]
        let sample = Mt19937::python(99).python_sample(400, 132);
        assert_eq!(sample.len(), 132);
        assert_eq!(sample[..8], [206, 194, 102, 306, 91, 117, 127, 68]);
    }

    #[test]
    fn numpy_double_and_permutations_match_numpy() {
        // np.random.seed(0); np.random.random_sample()
        assert_eq!(Mt19937::numpy(0).numpy_double(), 0.548_813_503_927_324_8);
        // np.random.seed(0); np.random.permutation(10)
        assert_eq!(
            Mt19937::numpy(0).numpy_permutation(10),
            [2, 8, 4, 9, 1, 6, 7, 3, 0, 5]
        );
        // np.random.seed(0); two np.random.normal(0, 0, [2, 200]); np.random.permutation(268)[:8]
        let mut mt = Mt19937::numpy(0);
        mt.numpy_skip_normals(800);
        assert_eq!(
            mt.numpy_permutation(268)[..8],
            [6, 27, 69, 61, 233, 116, 30, 60]
        );
    }

    #[test]
    fn the_reference_generator_starts_as_published() {
        // The first output of init_genrand(5489), the reference implementation's default seed.
        assert_eq!(Mt19937::numpy(5489).next_u32(), 3_499_211_612);
    }
}
