//! t-SNE embeddings of parameter vectors (Fig 1's minefield), through `bhtsne`.

use genviz_core::{rng, Error, Result};

/// t-SNE iterations (sklearn's default `n_iter`).
pub const TSNE_EPOCHS: usize = 1000;

/// Standard deviation of the random start (sklearn's `init="random"`: `1e-4 * N(0, 1)`).
const INIT_STD: f64 = 1e-4;

/// Exact t-SNE of `rows` to 2-D (squared Euclidean input distances, as sklearn's exact
/// method) for [`TSNE_EPOCHS`] iterations from a random start drawn from `seed`'s `"tsne"`
/// stream. It runs on one thread so that the embedding does not depend on the thread count.
///
/// # Errors
/// With fewer than two rows, rows of different lengths, or a perplexity below 1.
pub fn tsne(rows: &[Vec<f32>], perplexity: f64, seed: u64) -> Result<Vec<[f64; 2]>> {
    use rand::Rng as _;
    if rows.len() < 2 || rows.iter().any(|r| r.len() != rows[0].len()) {
        return Err(Error::invalid(format!(
            "t-SNE needs at least two rows of one length, got {} rows",
            rows.len()
        )));
    }
    if !(perplexity.is_finite() && perplexity >= 1.0) {
        return Err(Error::invalid(format!(
            "t-SNE perplexity is {perplexity}, expected a number >= 1"
        )));
    }
    let data: Vec<Vec<f64>> = rows
        .iter()
        .map(|r| r.iter().map(|&v| f64::from(v)).collect())
        .collect();
    let mut r = rng::stream(seed, "tsne");
    let init: Vec<f64> = (0..2 * data.len())
        .map(|_| {
            // Box-Muller.
            let (u1, u2): (f64, f64) = (r.gen_range(f64::EPSILON..1.0), r.gen());
            INIT_STD * (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
        })
        .collect();
    let y = genviz_core::threads::with_threads(1, || {
        let mut t: bhtsne::tSNE<f64, Vec<f64>> = bhtsne::tSNE::new(&data);
        t.perplexity(perplexity)
            .epochs(TSNE_EPOCHS)
            .initial_embedding(init)
            .exact(|a, b| a.iter().zip(b).map(|(x, y)| (x - y).powi(2)).sum());
        t.embedding()
    })?;
    Ok(y.chunks(2).map(|c| [c[0], c[1]]).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn separated_clusters_stay_apart_and_the_seed_fixes_the_map() {
        // Two tight clusters in 5-D, far apart: their embeddings must not mix.
        let rows: Vec<Vec<f32>> = (0..20)
            .map(|i| {
                let base = if i < 10 { 0.0 } else { 50.0 };
                (0..5)
                    .map(|k| base + ((i * 7 + k) % 5) as f32 * 0.1)
                    .collect()
            })
            .collect();
        let y = tsne(&rows, 5.0, 3).unwrap();
        let centre = |r: std::ops::Range<usize>| {
            let n = r.len() as f64;
            let (sx, sy) = y[r]
                .iter()
                .fold((0.0, 0.0), |(a, b), p| (a + p[0], b + p[1]));
            [sx / n, sy / n]
        };
        let (a, b) = (centre(0..10), centre(10..20));
        let between = ((a[0] - b[0]).powi(2) + (a[1] - b[1]).powi(2)).sqrt();
        let spread = y[..10]
            .iter()
            .map(|p| ((p[0] - a[0]).powi(2) + (p[1] - a[1]).powi(2)).sqrt())
            .fold(0.0, f64::max);
        assert!(
            between > 2.0 * spread,
            "clusters mixed: {between} vs {spread}"
        );
        assert_eq!(y, tsne(&rows, 5.0, 3).unwrap());
        assert_ne!(y, tsne(&rows, 5.0, 4).unwrap());
        assert!(tsne(&rows[..1], 5.0, 3).is_err());
        assert!(tsne(&rows, 0.5, 3).is_err());
    }
}
