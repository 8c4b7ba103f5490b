use super::*;
use crate::measures::subset;
use crate::measures::testnets::{points, rescaled, small_mlp, with_threads, Quadratic};
use proptest::prelude::*;

/// A quadratic with curvatures `h` in `[0.2, 3]`, `examples` random points in `[-1, 1]^n`, and
/// `theta` near (not at) their mean.
fn quadratic(n: usize, examples: usize, seed: u64) -> (Quadratic, Params, Dataset) {
    let mut r = rng::stream(seed, "test");
    let h: Vec<f64> = (0..n).map(|_| r.gen_range(0.2..3.0)).collect();
    let features: Vec<f32> = (0..n * examples).map(|_| r.gen_range(-1.0..1.0)).collect();
    let data = points(features, n);
    let mean: Vec<f64> = (0..n)
        .map(|j| {
            (0..examples)
                .map(|i| f64::from(data.row(i)[j]))
                .sum::<f64>()
                / examples as f64
        })
        .collect();
    let theta: Vec<f32> = mean
        .iter()
        .map(|m| (m + r.gen_range(-0.3..0.3) + if *m >= 0.0 { 0.5 } else { -0.5 }) as f32)
        .collect();
    let net = Quadratic::new(h);
    let theta = net.params(theta);
    (net, theta, data)
}

fn c_of(theta: &Params, adaptive: bool) -> Vec<f64> {
    theta
        .values()
        .iter()
        .map(|&w| if adaptive { f64::from(w).abs() } else { 1.0 })
        .collect()
}

/// The gradient of the batch loss, `h * (theta - mean x)`, in `f64`.
fn batch_gradient(net: &Quadratic, theta: &Params, batch: &Dataset) -> Vec<f64> {
    let n = net.h.len();
    (0..n)
        .map(|j| {
            let mean = (0..batch.len())
                .map(|i| f64::from(batch.row(i)[j]))
                .sum::<f64>()
                / batch.len() as f64;
            net.h[j] * (f64::from(theta.values()[j]) - mean)
        })
        .collect()
}

#[test]
fn average_case_equals_the_closed_form_expectation() {
    // E[g.delta + delta' H delta / 2] = rho^2 sum h c^2 / 2 (Gaussian) or / 6 (uniform).
    for (distribution, factor) in [
        (Distribution::Gaussian, 0.5),
        (Distribution::Uniform, 1.0 / 6.0),
    ] {
        for adaptive in [false, true] {
            for seed in 0..3 {
                let (net, theta, data) = quadratic(12, 32, seed);
                let config = AverageSharpnessConfig {
                    rho: 0.5,
                    distribution,
                    adaptive,
                    samples: 1000,
                    examples: None,
                    seed,
                };
                let truth: f64 = factor
                    * 0.25
                    * net
                        .h
                        .iter()
                        .zip(c_of(&theta, adaptive))
                        .map(|(h, c)| h * c * c)
                        .sum::<f64>();
                let out = average_sharpness(&net, &theta, &data, &config).unwrap();
                let m = &out.measures[0];
                let se = m.details["standard_error"];
                assert!(
                    se < 0.1 * truth,
                    "{distribution:?} {adaptive}: se {se} vs {truth}"
                );
                assert!(
                    (m.value - truth).abs() < 5.0 * se,
                    "{distribution:?} adaptive {adaptive} seed {seed}: {} vs analytic {truth} (se {se})",
                    m.value
                );
                let i = m.interval.unwrap();
                assert!(i.low < m.value && m.value < i.high);
                assert_eq!(out.cost.evaluations, 1001);
                assert_eq!(out.cost.examples_forward, 1001 * 32);
            }
        }
    }
}

#[test]
fn worst_case_linf_equals_the_vertex_maximum() {
    // A separable convex quadratic: the maximum over the box is the vertex
    // rho * c * sign(g), worth sum |g| rho c + h rho^2 c^2 / 2 per batch.
    for adaptive in [false, true] {
        for (m, examples) in [(32, 32), (8, 32), (10, 32)] {
            let (net, theta, data) = quadratic(12, 40, 7);
            let rho = 0.2;
            let config = WorstSharpnessConfig {
                rho,
                ball: Ball::Linf,
                adaptive,
                m,
                examples: Some(examples),
                steps: DEFAULT_STEPS,
                random_start: false,
                seed: 3,
            };
            let c = c_of(&theta, adaptive);
            let chosen = subset(&data, Some(examples), 3).unwrap();
            let idx: Vec<usize> = (0..chosen.len()).collect();
            let per_batch: Vec<f64> = idx
                .chunks(m)
                .map(|b| {
                    let batch = chosen.select(b);
                    let g = batch_gradient(&net, &theta, &batch);
                    (0..12)
                        .map(|j| g[j].abs() * rho * c[j] + 0.5 * net.h[j] * (rho * c[j]).powi(2))
                        .sum::<f64>()
                })
                .collect();
            let truth = per_batch.iter().sum::<f64>() / per_batch.len() as f64;
            let out = worst_sharpness(&net, &theta, &data, &config).unwrap();
            let got = out.measures[0].value;
            assert!(
                (got - truth).abs() < 1e-4 * truth,
                "adaptive {adaptive}, m {m}: {got} vs analytic {truth}"
            );
            assert_eq!(out.measures[0].details["batches"], per_batch.len() as f64);
        }
    }
}

/// `max_{||z|| <= rho} g.z + z' D z / 2` for diagonal `D >= 0`: `z = g / (mu - D)` with `mu`
/// above the largest `D` solving `||z|| = rho` (the trust-region secular equation), by bisection.
fn trust_region_max(g: &[f64], d: &[f64], rho: f64) -> f64 {
    let top = d.iter().copied().fold(f64::MIN, f64::max);
    let gn = g.iter().map(|v| v * v).sum::<f64>().sqrt();
    let norm = |mu: f64| {
        g.iter()
            .zip(d)
            .map(|(g, d)| (g / (mu - d)).powi(2))
            .sum::<f64>()
            .sqrt()
    };
    let (mut lo, mut hi) = (top, top + gn / rho);
    for _ in 0..200 {
        let mid = 0.5 * (lo + hi);
        if norm(mid) > rho {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    let mu = 0.5 * (lo + hi);
    g.iter()
        .zip(d)
        .map(|(g, d)| {
            let z = g / (mu - d);
            g * z + 0.5 * d * z * z
        })
        .sum()
}

#[test]
fn worst_case_l2_equals_the_trust_region_maximum() {
    for adaptive in [false, true] {
        let (net, theta, data) = quadratic(10, 20, 11);
        let rho = 0.3;
        let config = WorstSharpnessConfig {
            rho,
            ball: Ball::L2,
            adaptive,
            m: 20,
            examples: None,
            steps: 100,
            random_start: false,
            seed: 0,
        };
        let c = c_of(&theta, adaptive);
        let g: Vec<f64> = batch_gradient(&net, &theta, &data)
            .iter()
            .zip(&c)
            .map(|(g, c)| g * c)
            .collect();
        let d: Vec<f64> = net.h.iter().zip(&c).map(|(h, c)| h * c * c).collect();
        let truth = trust_region_max(&g, &d, rho);
        let got = worst_sharpness(&net, &theta, &data, &config)
            .unwrap()
            .measures[0]
            .value;
        assert!(
            (got - truth).abs() < 1e-3 * truth,
            "adaptive {adaptive}: {got} vs analytic {truth}"
        );
    }
}

#[test]
fn worst_case_l2_at_a_minimum_is_half_rho_squared_lambda_max() {
    // g = 0: the maximum is rho^2 max(h c^2) / 2, along the top eigenvector; only a random
    // start gives Auto-PGD a direction.
    let n = 8;
    let h = vec![0.5, 3.0, 1.0, 1.5, 0.2, 0.8, 1.2, 0.4];
    let net = Quadratic::new(h.clone());
    let x: Vec<f32> = (0..n).map(|j| 0.3 + 0.1 * j as f32).collect();
    let data = points(x.clone(), n);
    let theta = net.params(x);
    for adaptive in [false, true] {
        let c = c_of(&theta, adaptive);
        let top = h.iter().zip(&c).map(|(h, c)| h * c * c).fold(0.0, f64::max);
        let rho = 0.1;
        let mut config = WorstSharpnessConfig {
            rho,
            ball: Ball::L2,
            adaptive,
            m: 1,
            examples: None,
            steps: 100,
            random_start: true,
            seed: 4,
        };
        let got = worst_sharpness(&net, &theta, &data, &config)
            .unwrap()
            .measures[0]
            .value;
        let truth = 0.5 * rho * rho * top;
        assert!((got - truth).abs() < 1e-3 * truth, "{got} vs {truth}");
        // Without a random start the zero gradient leaves the point where it is.
        config.random_start = false;
        let stuck = worst_sharpness(&net, &theta, &data, &config)
            .unwrap()
            .measures[0]
            .value;
        assert_eq!(stuck, 0.0);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    /// The maximum over a box is at least the mean over the same box.
    #[test]
    fn worst_case_is_at_least_the_average_case(
        seed in 0u64..10_000,
        adaptive: bool,
        rho in 0.01f64..1.0,
        batches in 1usize..5,
    ) {
        let (net, theta, data) = quadratic(6, 24, seed);
        let m = 24 / [1, 2, 3, 4, 6][batches - 1].min(24);
        let worst = worst_sharpness(&net, &theta, &data, &WorstSharpnessConfig {
            rho, ball: Ball::Linf, adaptive, m, examples: None, steps: 10, random_start: false, seed,
        }).unwrap().measures[0].value;
        let avg = average_sharpness(&net, &theta, &data, &AverageSharpnessConfig {
            rho, distribution: Distribution::Uniform, adaptive, samples: 20, examples: None, seed,
        }).unwrap().measures[0].value;
        prop_assert!(worst >= avg - 1e-9 * avg.abs(), "worst {} < average {}", worst, avg);
    }
}

#[test]
fn worst_case_beats_random_draws_on_a_trained_mlp() {
    let (net, theta, data) = small_mlp();
    for adaptive in [false, true] {
        let rho = if adaptive { 0.1 } else { 0.05 };
        let worst = worst_sharpness(
            &net,
            &theta,
            &data,
            &WorstSharpnessConfig {
                rho,
                adaptive,
                m: 80,
                ..Default::default()
            },
        )
        .unwrap()
        .measures[0]
            .value;
        let avg = average_sharpness(
            &net,
            &theta,
            &data,
            &AverageSharpnessConfig {
                rho,
                distribution: Distribution::Uniform,
                adaptive,
                samples: 50,
                ..Default::default()
            },
        )
        .unwrap()
        .measures[0]
            .clone();
        assert!(
            worst > avg.interval.unwrap().high,
            "adaptive {adaptive}: worst {worst} vs average {:?}",
            avg
        );
    }
}

fn relative(a: f64, b: f64) -> f64 {
    (a - b).abs() / a.abs().max(b.abs())
}

#[test]
fn adaptive_sharpness_ignores_relu_rescaling_and_plain_does_not() {
    let (net, theta, data) = small_mlp();
    let scaled = rescaled(&theta, 1, 3.0);
    // Same function: same loss.
    let (a, b) = (
        net.evaluate(&[theta.values()], &data)[0].loss,
        net.evaluate(&[scaled.values()], &data)[0].loss,
    );
    assert!(relative(a, b) < 1e-5);
    for adaptive in [true, false] {
        let avg = |t: &Params| {
            average_sharpness(
                &net,
                t,
                &data,
                &AverageSharpnessConfig {
                    rho: 0.05,
                    adaptive,
                    ..Default::default()
                },
            )
            .unwrap()
            .measures[0]
                .value
        };
        let worst = |t: &Params, ball| {
            worst_sharpness(
                &net,
                t,
                &data,
                &WorstSharpnessConfig {
                    rho: 0.05,
                    ball,
                    adaptive,
                    m: 40,
                    ..Default::default()
                },
            )
            .unwrap()
            .measures[0]
                .value
        };
        let pairs = [
            ("average", avg(&theta), avg(&scaled)),
            (
                "worst linf",
                worst(&theta, Ball::Linf),
                worst(&scaled, Ball::Linf),
            ),
            (
                "worst l2",
                worst(&theta, Ball::L2),
                worst(&scaled, Ball::L2),
            ),
        ];
        for (what, x, y) in pairs {
            if adaptive {
                assert!(relative(x, y) < 1e-3, "adaptive {what}: {x} vs {y}");
            } else {
                assert!(relative(x, y) > 0.05, "plain {what}: {x} vs {y}");
            }
        }
    }
}

#[test]
fn results_do_not_depend_on_the_thread_count() {
    let (net, theta, data) = small_mlp();
    let run = || {
        let a = average_sharpness(&net, &theta, &data, &AverageSharpnessConfig::default()).unwrap();
        let w = worst_sharpness(
            &net,
            &theta,
            &data,
            &WorstSharpnessConfig {
                m: 16,
                random_start: true,
                ..Default::default()
            },
        )
        .unwrap();
        (a.measures, w.measures)
    };
    assert_eq!(with_threads(1, run), with_threads(3, run));
}

#[test]
fn bad_input_is_an_error() {
    let (net, theta, data) = small_mlp();
    let bad_avg = [
        AverageSharpnessConfig {
            rho: 0.0,
            ..Default::default()
        },
        AverageSharpnessConfig {
            rho: f64::NAN,
            ..Default::default()
        },
        AverageSharpnessConfig {
            samples: 1,
            ..Default::default()
        },
        AverageSharpnessConfig {
            examples: Some(0),
            ..Default::default()
        },
    ];
    for c in bad_avg {
        assert!(average_sharpness(&net, &theta, &data, &c).is_err(), "{c:?}");
    }
    let bad_worst = [
        WorstSharpnessConfig {
            m: 0,
            ..Default::default()
        },
        WorstSharpnessConfig {
            steps: 0,
            ..Default::default()
        },
        WorstSharpnessConfig {
            rho: -1.0,
            ..Default::default()
        },
    ];
    for c in bad_worst {
        assert!(worst_sharpness(&net, &theta, &data, &c).is_err(), "{c:?}");
    }
    let short =
        Params::from_vec(theta.layout().clone(), vec![f32::NAN; theta.values().len()]).unwrap();
    let err = worst_sharpness(&net, &short, &data, &WorstSharpnessConfig::default()).unwrap_err();
    assert!(err.to_string().contains("parameter 0 is NaN"), "{err}");
    let empty = data.select(&[]);
    assert!(average_sharpness(&net, &theta, &empty, &AverageSharpnessConfig::default()).is_err());
    // A huge radius gives a non-finite loss, reported rather than averaged.
    let huge = AverageSharpnessConfig {
        rho: 1e30,
        ..Default::default()
    };
    assert!(average_sharpness(&net, &theta, &data, &huge).is_err());
}

#[test]
fn checkpoints_follow_croce_and_hein() {
    // Computed with their formula in Python (math.ceil(p * n), p_{j+1} = p_j + max(p_j - p_{j-1} - 0.03, 0.06)).
    assert_eq!(apgd_checkpoints(20), vec![5, 9, 12, 15, 16, 18, 19, 20]);
    assert_eq!(
        apgd_checkpoints(100),
        vec![22, 41, 58, 70, 80, 87, 93, 99, 105]
    );
    assert_eq!(apgd_checkpoints(1), vec![1]);
}

#[test]
fn configs_read_from_toml_like_json_with_defaults() {
    let c: WorstSharpnessConfig =
        serde_json::from_str(r#"{"rho": 0.002, "adaptive": true}"#).unwrap();
    assert_eq!(c.rho, 0.002);
    assert_eq!(c.m, DEFAULT_M);
    assert_eq!(c.name(), "worst_sharpness_linf_adaptive_rho_0.002_m_128");
    assert!(serde_json::from_str::<WorstSharpnessConfig>(r#"{"rhoo": 1}"#).is_err());
    assert_eq!(
        AverageSharpnessConfig::default().name(),
        "avg_sharpness_gaussian_rho_0.1"
    );
}
