use super::*;
use crate::measures::testnets::{points, rescaled, small_mlp, with_threads, Quadratic};
use genviz_core::{Eval, Layout};
use genviz_mlp::{init_params, Activation, Head, Init, Mlp, MlpSpec};
use proptest::prelude::*;
use std::sync::Arc;

/// `sigma_max` of a 2 x 2 matrix: `sigma^2 = (T + sqrt(T^2 - 4 det^2)) / 2` with `T` the squared
/// Frobenius norm.
fn two_by_two(a: &[f32]) -> f64 {
    let a: Vec<f64> = a.iter().map(|&v| f64::from(v)).collect();
    let t = a.iter().map(|v| v * v).sum::<f64>();
    let det = a[0] * a[3] - a[1] * a[2];
    ((t + (t * t - 4.0 * det * det).max(0.0).sqrt()) / 2.0).sqrt()
}

proptest! {
    #[test]
    fn spectral_norm_of_2x2_matches_the_closed_form(a in proptest::collection::vec(-5.0f32..5.0, 4)) {
        let got = spectral_norm(&a, 2, 2).unwrap();
        let want = two_by_two(&a);
        prop_assert!((got - want).abs() <= 1e-9 * want.max(1e-9), "{} vs {}", got, want);
    }

    #[test]
    fn spectral_norm_lies_between_the_largest_row_and_the_frobenius_norm(
        rows in 1usize..7,
        cols in 1usize..7,
        seed in 0u64..1000,
    ) {
        let mut r = rng::stream(seed, "m");
        let a: Vec<f32> = (0..rows * cols).map(|_| r.gen_range(-1.0f32..1.0)).collect();
        let s = spectral_norm(&a, rows, cols).unwrap();
        let fro = a.iter().map(|&v| f64::from(v).powi(2)).sum::<f64>().sqrt();
        let row = (0..rows)
            .map(|i| a[i * cols..(i + 1) * cols].iter().map(|&v| f64::from(v).powi(2)).sum::<f64>().sqrt())
            .fold(0.0, f64::max);
        prop_assert!(s <= fro * (1.0 + 1e-12) && s >= row * (1.0 - 1e-12), "{} not in [{}, {}]", s, row, fro);
        // The transpose has the same norm.
        let t: Vec<f32> = (0..cols * rows).map(|k| a[(k % rows) * cols + k / rows]).collect();
        prop_assert!((spectral_norm(&t, cols, rows).unwrap() - s).abs() <= 1e-9 * s.max(1e-9));
    }
}

#[test]
fn power_iteration_agrees_on_large_matrices() {
    // Rank one u v^T has norm |u| |v|, on both sides of the exact/iterative threshold.
    for n in [EXACT_SPECTRAL_MAX, EXACT_SPECTRAL_MAX + 44] {
        let u: Vec<f64> = (0..n).map(|i| ((i % 7) as f64 - 3.0) / 3.0).collect();
        let v: Vec<f64> = (0..n + 3).map(|j| ((j % 5) as f64 + 1.0) / 5.0).collect();
        let a: Vec<f32> = u
            .iter()
            .flat_map(|x| v.iter().map(move |y| (x * y) as f32))
            .collect();
        let want = u.iter().map(|x| x * x).sum::<f64>().sqrt()
            * v.iter().map(|x| x * x).sum::<f64>().sqrt();
        let got = spectral_norm(&a, n, n + 3).unwrap();
        assert!((got - want).abs() < 1e-5 * want, "n {n}: {got} vs {want}");
    }
    // A diagonal matrix with a clear top value, through the power iteration.
    let n = EXACT_SPECTRAL_MAX + 10;
    let mut a = vec![0f32; n * n];
    for i in 0..n {
        a[i * n + i] = if i == 17 { 5.0 } else { 1.0 + (i % 3) as f32 };
    }
    assert!((spectral_norm(&a, n, n).unwrap() - 5.0).abs() < 1e-9);
    assert!(spectral_norm(&a, n, n + 1).is_err());
}

fn mlp(hidden: Vec<usize>, activation: Activation, seed: u64) -> (Mlp, Params) {
    let spec = MlpSpec {
        input_dim: 2,
        hidden,
        num_classes: 2,
        activation,
        head: Head::Sigmoid,
    };
    let net = Mlp::new(spec.clone()).unwrap();
    let mut theta = init_params(&spec, Init::Pytorch, &mut rng::stream(seed, "init"));
    // Non-zero biases everywhere, so bias paths count.
    theta.values_mut().iter_mut().for_each(|v| *v += 0.05);
    (net, theta)
}

#[test]
fn spectral_product_of_a_small_mlp_and_a_conv_kernel() {
    let (_net, theta) = mlp(vec![2, 2], Activation::Relu, 1);
    let ws = weights(&theta);
    assert_eq!(ws.len(), 3);
    let mut want = 0.0;
    for t in &ws {
        let v = &theta.values()[t.range()];
        let norm = if t.shape == [2, 2] {
            two_by_two(v)
        } else {
            v.iter().map(|&x| f64::from(x).powi(2)).sum::<f64>().sqrt()
        };
        want += 2.0 * norm.ln();
    }
    let out = spectral_product(&theta).unwrap();
    assert!((out.measures[0].value - want).abs() < 1e-9);
    assert_eq!(out.measures[0].details["depth"], 3.0);
    // The product is unchanged when one layer is scaled up and the next down.
    let scaled = spectral_product(&rescaled(&theta, 0, 5.0)).unwrap();
    assert!((scaled.measures[0].value - want).abs() < 1e-5);

    // A [2, 1, 1, 2] kernel is the 2 x 2 matrix of its two filters.
    let layout = Layout::new([
        ("conv.weight".to_string(), vec![2, 1, 1, 2], Role::Weight),
        ("conv.bias".to_string(), vec![2], Role::Bias),
    ])
    .unwrap();
    let v = vec![1.0, 2.0, -3.0, 0.5, 9.0, 9.0];
    let p = Params::from_vec(Arc::new(layout), v.clone()).unwrap();
    let got = spectral_product(&p).unwrap().measures[0].value;
    assert!((got - 2.0 * two_by_two(&v[..4]).ln()).abs() < 1e-12);
}

/// The path norm of an MLP by enumerating paths: every input-output path through the weights,
/// and every path that starts at a bias, each worth the product of its squared parameters.
fn enumerated_path_norm(net: &Mlp, theta: &Params) -> f64 {
    let widths = net.spec().widths();
    let layers = widths.len() - 1;
    let w = |k: usize, o: usize, i: usize| {
        f64::from(theta.tensor_by_name(&format!("layers.{k}.weight")).unwrap()[o * widths[k] + i])
            .powi(2)
    };
    let b = |k: usize, o: usize| {
        f64::from(theta.tensor_by_name(&format!("layers.{k}.bias")).unwrap()[o]).powi(2)
    };
    // Walk each path explicitly: (layer, unit, product so far).
    let mut total = 0.0;
    fn walk(
        k: usize,
        unit: usize,
        prod: f64,
        layers: usize,
        widths: &[usize],
        w: &dyn Fn(usize, usize, usize) -> f64,
        total: &mut f64,
    ) {
        if k == layers {
            *total += prod;
            return;
        }
        for o in 0..widths[k + 1] {
            walk(k + 1, o, prod * w(k, o, unit), layers, widths, w, total);
        }
    }
    for i in 0..widths[0] {
        walk(0, i, 1.0, layers, &widths, &w, &mut total);
    }
    // Paths starting at the bias of unit o in layer k.
    for k in 0..layers {
        for o in 0..widths[k + 1] {
            walk(k + 1, o, b(k, o), layers, &widths, &w, &mut total);
        }
    }
    total
}

#[test]
fn path_norm_equals_the_sum_over_paths_and_ignores_rescaling() {
    for (hidden, seed) in [(vec![3, 2], 2), (vec![4], 3), (vec![2, 3, 2], 4)] {
        let (net, theta) = mlp(hidden, Activation::Relu, seed);
        let want = enumerated_path_norm(&net, &theta);
        let got = path_norm(&net, &theta, 2).unwrap();
        let m = &got.measures[0];
        assert!(
            (m.value - want).abs() < 1e-5 * want,
            "{} vs {want}",
            m.value
        );
        assert_eq!(got.cost.logits, 5);
        let scaled = path_norm(&net, &rescaled(&theta, 0, 3.0), 2)
            .unwrap()
            .measures[0]
            .value;
        assert!((scaled - want).abs() < 1e-4 * want);
    }
    let (net, theta) = mlp(vec![3], Activation::LeakyRelu { slope: 0.1 }, 5);
    assert!(path_norm(&net, &theta, 2).is_ok());
}

#[test]
fn path_norm_refuses_networks_it_is_not_defined_for() {
    let (net, theta) = mlp(vec![3, 3], Activation::Tanh, 6);
    let err = path_norm(&net, &theta, 2).unwrap_err();
    assert!(err.to_string().contains("not affine"), "{err}");
    assert!(path_norm(&net, &theta, 0).is_err());

    /// A network with a normalisation layer in its layout.
    struct Normed(Arc<Layout>);
    impl Network for Normed {
        fn layout(&self) -> &Arc<Layout> {
            &self.0
        }
        fn num_classes(&self) -> usize {
            2
        }
        fn evaluate(&self, thetas: &[&[f32]], _: &Dataset) -> Vec<Eval> {
            vec![Eval::default(); thetas.len()]
        }
        fn loss_grad(&self, _: &[f32], _: &Batch<'_>, _: &mut [f32]) -> f64 {
            0.0
        }
        fn logits(&self, _: &[f32], _: &[f32], n: usize) -> Vec<f32> {
            vec![0.0; n]
        }
    }
    let layout = Arc::new(
        Layout::new([
            ("w".to_string(), vec![1, 2], Role::Weight),
            ("bn.weight".to_string(), vec![1], Role::NormScale),
        ])
        .unwrap(),
    );
    let p = Params::from_vec(layout.clone(), vec![1.0; 3]).unwrap();
    let err = path_norm(&Normed(layout), &p, 2).unwrap_err();
    assert!(err.to_string().contains("bn.weight"), "{err}");
}

#[test]
fn distance_from_init_counts_weights_and_reports_the_full_distance() {
    let (_net, a) = mlp(vec![2], Activation::Relu, 7);
    let mut b = a.clone();
    let w0 = a.layout().get("layers.0.weight").unwrap().range();
    let b0 = a.layout().get("layers.0.bias").unwrap().range();
    b.values_mut()[w0.start] += 3.0;
    b.values_mut()[w0.start + 1] -= 4.0;
    b.values_mut()[b0.start] += 12.0;
    let m = &distance_from_init(&b, &a).unwrap().measures[0];
    assert!((m.value - 25.0).abs() < 1e-4);
    assert!((m.details["l2_all"] - 13.0).abs() < 1e-4);
    let (_n, other) = mlp(vec![3], Activation::Relu, 7);
    assert!(distance_from_init(&other, &a).is_err());
}

#[test]
fn fisher_rao_matches_the_closed_form_and_ignores_rescaling() {
    // Quadratic: <w, grad loss_i> = sum_j w_j h_j (w_j - x_ij); one weight tensor, (d+1)^2 = 4.
    let n = 5;
    let h = vec![0.5, 1.0, 2.0, 0.3, 1.5];
    let net = Quadratic::new(h.clone());
    let feats: Vec<f32> = (0..n * 7)
        .map(|k| ((k * 37 % 11) as f32 - 5.0) / 5.0)
        .collect();
    let data = points(feats, n);
    let theta = net.params(vec![0.4, -0.2, 0.9, 1.1, -0.7]);
    let want: f64 = (0..data.len())
        .map(|i| {
            let ip: f64 = (0..n)
                .map(|j| {
                    let w = f64::from(theta.values()[j]);
                    w * h[j] * (w - f64::from(data.row(i)[j]))
                })
                .sum();
            4.0 * ip * ip
        })
        .sum::<f64>()
        / data.len() as f64;
    let out = fisher_rao(
        &net,
        &theta,
        &data,
        &FisherRaoConfig {
            examples: None,
            seed: 0,
        },
    )
    .unwrap();
    assert!(
        (out.measures[0].value - want).abs() < 1e-5 * want,
        "{} vs {want}",
        out.measures[0].value
    );
    assert_eq!(out.cost.gradients, 7);

    let (net, theta, data) = small_mlp();
    let run = |t: &Params| {
        fisher_rao(&net, t, &data, &FisherRaoConfig::default())
            .unwrap()
            .measures[0]
            .clone()
    };
    let a = run(&theta);
    let b = run(&rescaled(&theta, 0, 4.0));
    assert!(
        (a.value - b.value).abs() < 1e-3 * a.value,
        "{} vs {}",
        a.value,
        b.value
    );
    assert_eq!(a.details["depth"], 3.0);
    assert_eq!(a, with_threads(1, || run(&theta)));
    // A different function has a different norm.
    let mut other = theta.clone();
    other.values_mut().iter_mut().for_each(|v| *v *= 1.2);
    assert!((run(&other).value - a.value).abs() > 0.01 * a.value);
}
