//! Each optimizer against values worked out by hand from PyTorch's documented update rules
//! (torch.optim docs and source), on tiny quadratics.

use super::*;

/// Minimises `sum (x - 3)^2` and checks each optimizer gets there.
fn converges(config: OptimizerConfig, lr: f32, steps: usize) {
    let mut x = vec![0.0f32, 10.0];
    let mut opt = Optimizer::new(config.clone(), 0.0, 2);
    for _ in 0..steps {
        let g: Vec<f32> = x.iter().map(|v| 2.0 * (v - 3.0)).collect();
        if config.needs_closure() {
            let loss = x.iter().map(|v| (v - 3.0) * (v - 3.0)).sum::<f32>();
            let mut closure = |p: &[f32], g: &mut [f32]| {
                for (gi, &pi) in g.iter_mut().zip(p) {
                    *gi = 2.0 * (pi - 3.0);
                }
                p.iter().map(|v| f64::from((v - 3.0) * (v - 3.0))).sum()
            };
            opt.step_with(&mut x, &g, f64::from(loss), lr, &mut closure);
        } else {
            opt.step(&mut x, &g, lr);
        }
    }
    assert!(
        x.iter().all(|v| (v - 3.0).abs() < 1e-2),
        "{config:?}: {x:?}"
    );
}

#[test]
fn every_optimizer_minimises_a_quadratic() {
    converges(
        OptimizerConfig::Sgd {
            momentum: 0.0,
            nesterov: false,
        },
        0.1,
        200,
    );
    converges(
        OptimizerConfig::Sgd {
            momentum: 0.9,
            nesterov: false,
        },
        0.02,
        500,
    );
    converges(
        OptimizerConfig::Sgd {
            momentum: 0.9,
            nesterov: true,
        },
        0.02,
        500,
    );
    converges(OptimizerConfig::adam(), 0.1, 2000);
    converges(OptimizerConfig::amsgrad(), 0.1, 2000);
    converges(
        OptimizerConfig::Rmsprop {
            alpha: 0.9,
            eps: 1e-7,
            momentum: 0.0,
        },
        0.01,
        2000,
    );
    converges(OptimizerConfig::adagrad(), 1.0, 2000);
    converges(OptimizerConfig::adadelta(0.9), 1.0, 20_000);
    converges(OptimizerConfig::adamax(0.9, 0.999), 0.1, 2000);
    converges(OptimizerConfig::asgd(), 0.1, 200);
    converges(OptimizerConfig::lbfgs(), 1.0, 5);
}

/// Runs `steps` steps of `config` at rate `lr` on `f(x) = x^2` (gradient `2x`) from `x = 1`
/// and compares each iterate with `expected`.
fn matches_hand_values(config: OptimizerConfig, lr: f32, expected: &[f64]) {
    let mut x = vec![1.0f32];
    let mut opt = Optimizer::new(config.clone(), 0.0, 1);
    for (t, want) in expected.iter().enumerate() {
        let g = [2.0 * x[0]];
        opt.step(&mut x, &g, lr);
        assert!(
            (f64::from(x[0]) - want).abs() < 2e-6 * want.abs().max(1.0),
            "{config:?} step {}: {} != {want}",
            t + 1,
            x[0]
        );
    }
}

#[test]
fn adam_first_step_moves_by_lr() {
    // Bias correction makes Adam's first step exactly lr * sign(g) (up to eps).
    let mut x = vec![1.0f32];
    Optimizer::new(OptimizerConfig::adam(), 0.0, 1).step(&mut x, &[0.5], 0.1);
    assert!((x[0] - 0.9).abs() < 1e-6);
}

#[test]
fn adagrad_matches_pytorch_by_hand() {
    // torch.optim.Adagrad, lr 0.1, lr_decay 0, initial_accumulator_value 0, eps 1e-10:
    //   sum += g^2;  x -= lr * g / (sqrt(sum) + eps)
    // t=1: g = 2,   sum = 4,           x = 1 - 0.1 * 2 / 2                = 0.9
    // t=2: g = 1.8, sum = 4 + 3.24 = 7.24, x = 0.9 - 0.1 * 1.8 / 2.690725 = 0.8331035
    // t=3: g = 1.666207, sum = 7.24 + 2.776246 = 10.016246,
    //      x = 0.8331035 - 0.1 * 1.666207 / 3.164845                    = 0.7804562
    matches_hand_values(
        OptimizerConfig::adagrad(),
        0.1,
        &[0.9, 0.833_103_526_845, 0.780_456_181_357],
    );
}

#[test]
fn adagrad_lr_decay_and_initial_accumulator_follow_pytorch() {
    // lr_decay 1, initial_accumulator_value 5: clr_t = lr / (1 + (t - 1)), sum starts at 5.
    // t=1: g = 2, sum = 9, x = 1 - 0.1 * 2 / 3 = 0.9333333
    // t=2: g = 1.8666667, sum = 9 + 3.4844444 = 12.4844444, clr = 0.05,
    //      x = 0.9333333 - 0.05 * 1.8666667 / 3.5333333 = 0.9069182
    matches_hand_values(
        OptimizerConfig::Adagrad {
            lr_decay: 1.0,
            initial_accumulator_value: 5.0,
            eps: 1e-10,
        },
        0.1,
        &[0.933_333_333, 0.906_918_239],
    );
}

#[test]
fn adadelta_matches_pytorch_by_hand() {
    // torch.optim.Adadelta with the paper's lr 5, rho 0.5, eps 1e-6:
    //   v = rho v + (1 - rho) g^2;  delta = sqrt(u + eps) / sqrt(v + eps) * g
    //   u = rho u + (1 - rho) delta^2;  x -= lr * delta
    // t=1: g = 2, v = 2, delta = 1e-3 / 1.4142139 * 2 = 1.4142131e-3, u = 1.0000e-6,
    //      x = 1 - 5 * 1.4142131e-3 = 0.99292893
    // t=2: g = 1.9858579, v = 1 + 0.5 * 3.9436316 = 2.9718158,
    //      delta = sqrt(2e-6) / sqrt(2.9718168) * 1.9858579 = 1.6291163e-3,
    //      x = 0.99292893 - 5 * 1.6291163e-3 = 0.98478335
    matches_hand_values(
        OptimizerConfig::adadelta(0.5),
        5.0,
        &[0.992_928_934, 0.984_783_352, 0.975_837_082],
    );
}

#[test]
fn adamax_matches_pytorch_by_hand() {
    // torch.optim.Adamax with the paper's betas (0.9, 0.9), lr 0.1, eps 1e-8:
    //   m = b1 m + (1 - b1) g;  u = max(b2 u, |g| + eps);  x -= lr / (1 - b1^t) * m / u
    // t=1: g = 2, m = 0.2, u = 2, x = 1 - 0.1 / 0.1 * 0.2 / 2 = 0.9
    // t=2: g = 1.8, m = 0.18 + 0.18 = 0.36, u = max(1.8, 1.8 + 1e-8) = 1.8,
    //      x = 0.9 - 0.1 / 0.19 * 0.36 / 1.8 = 0.9 - 0.1052632 = 0.7947368
    // t=3: g = 1.5894737, m = 0.324 + 0.1589474 = 0.4829474, u = max(1.62, 1.5894737) = 1.62,
    //      x = 0.7947368 - 0.1 / 0.271 * 0.4829474 / 1.62 = 0.6847311
    matches_hand_values(
        OptimizerConfig::adamax(0.9, 0.9),
        0.1,
        &[0.9, 0.794_736_843, 0.684_731_065],
    );
}

#[test]
fn amsgrad_divides_by_the_largest_raw_second_moment() {
    // torch.optim.Adam(amsgrad=True), lr 0.9, betas (0.9, 0.5), eps 1e-8:
    //   m = b1 m + (1 - b1) g;  v = b2 v + (1 - b2) g^2;  vmax = max(vmax, v)
    //   x -= lr / (1 - b1^t) * m / (sqrt(vmax) / sqrt(1 - b2^t) + eps)
    // t=1: g = 2, m = 0.2, v = vmax = 2, x = 1 - 0.9 / 0.1 * 0.2 / (1.4142136 / 0.7071068)
    //      = 1 - 0.9 = 0.1 (Adam's first step is lr * sign(g))
    // t=2: g = 0.2, m = 0.18 + 0.02 = 0.2, v = 1 + 0.02 = 1.02 < vmax = 2,
    //      x = 0.1 - 0.9 / 0.19 * 0.2 / (1.4142136 / 0.8660254) = 0.1 - 0.5801423 = -0.4801423
    //      (plain Adam divides by sqrt(1.02) / 0.8660254 instead: x = -0.7123617)
    // t=3: g = -0.9602846, m = 0.18 - 0.0960285 = 0.0839715, v = 0.51 + 0.4610733 = 0.9710733,
    //      vmax = 2, x = -0.4801423 - 0.9 / 0.271 * 0.0839715 / (1.4142136 / 0.9354143)
    //      = -0.6645990
    let adam = |amsgrad| OptimizerConfig::Adam {
        beta1: 0.9,
        beta2: 0.5,
        eps: 1e-8,
        amsgrad,
    };
    matches_hand_values(adam(true), 0.9, &[0.1, -0.480_142_302, -0.664_598_972]);
    matches_hand_values(adam(false), 0.9, &[0.1, -0.712_361_711, -0.806_768_974]);
}

#[test]
fn asgd_matches_pytorch_by_hand() {
    // torch.optim.ASGD, lr 0.1, lambd 0.1 (large, so the decay term shows), alpha 0.75:
    //   x = x (1 - lambd eta) - eta g;  then eta = lr / (1 + lambd lr t)^alpha
    // t=1: eta = lr = 0.1, x = 1 * 0.99 - 0.2 = 0.79; eta = 0.1 / 1.01^0.75 = 0.0992565
    // t=2: x = 0.79 * (1 - 0.00992565) - 0.0992565 * 1.58 = 0.6253335;
    //      eta = 0.1 / 1.02^0.75 = 0.0985258
    // t=3: x = 0.6253335 * (1 - 0.00985258) - 0.0985258 * 1.2506669 = 0.4959494
    matches_hand_values(
        OptimizerConfig::Asgd {
            lambd: 0.1,
            alpha: 0.75,
            t0: 1e6,
        },
        0.1,
        &[0.79, 0.625_333_462, 0.495_949_384],
    );
}

/// L-BFGS on `f(x) = (x0^2 + 4 x1^2) / 2` from `(1, 1)`; returns the iterate after each step
/// and the optimizer.
fn lbfgs_on_quadratic(max_iter: u32, steps: usize) -> (Vec<[f32; 2]>, Optimizer) {
    let config = OptimizerConfig::Lbfgs {
        max_iter,
        max_eval: None,
        tolerance_grad: 1e-7,
        tolerance_change: 1e-9,
        history_size: 100,
    };
    let mut opt = Optimizer::new(config, 0.0, 2);
    let mut x = vec![1.0f32, 1.0];
    let mut f = |p: &[f32], g: &mut [f32]| {
        g[0] = p[0];
        g[1] = 4.0 * p[1];
        f64::from(0.5 * (p[0] * p[0] + 4.0 * p[1] * p[1]))
    };
    let mut out = Vec::new();
    for _ in 0..steps {
        let mut g = [0f32; 2];
        let loss = f(&x, &mut g);
        opt.step_with(&mut x, &g, loss, 1.0, &mut f);
        out.push([x[0], x[1]]);
    }
    (out, opt)
}

#[test]
fn lbfgs_matches_pytorch_by_hand() {
    // torch.optim.LBFGS(lr=1, max_iter=3, history_size=100), no line search, so max_eval =
    // 3 * 5 / 4 = 3. f(x) = (x0^2 + 4 x1^2) / 2 from (1, 1), g = (x0, 4 x1).
    // Step 1 (closure call 1 at (1, 1): loss 2.5, g0 = (1, 4)):
    //   iter 1: d = -g0 = (-1, -4), t = min(1, 1 / |g0|_1) * lr = 0.2,
    //           x = (0.8, 0.2); call 2: g1 = (0.8, 0.8), loss 0.4
    //   iter 2: y = g1 - g0 = (-0.2, -3.2), s = t d = (-0.2, -0.8), ys = 2.6 > 1e-10: stored,
    //           ro = 1 / 2.6, H_diag = ys / y.y = 2.6 / 10.28 = 0.2529183.
    //           Two loops: q = -g1 = (-0.8, -0.8), al = ro s.q = 0.3076923,
    //           q -= al y -> (-0.7384615, 0.1846154), r = H_diag q = (-0.1867704, 0.0466926),
    //           be = ro y.r = -0.0431008, r += (al - be) s -> d = (-0.2569291, -0.2339410);
    //           t = lr = 1, x = (0.5430709, -0.0339410); call 3: 3 evaluations = max_eval: stop.
    // Steps 2 and 3 continue from the stored pair (same transcription, carried on):
    //   x = (0.0031244, -0.0056996) after 6 evaluations, (-3.867e-5, -6.19e-6) after 9.
    let (xs, opt) = lbfgs_on_quadratic(3, 3);
    let want = [
        [0.543_070_937, -0.033_941_934],
        [0.003_124_436, -0.005_699_565],
        [-3.867_433e-5, -6.187_696e-6],
    ];
    for (k, (got, want)) in xs.iter().zip(want).enumerate() {
        for i in 0..2 {
            assert!(
                (f64::from(got[i]) - want[i]).abs() < 2e-6,
                "step {}: {got:?} != {want:?}",
                k + 1
            );
        }
    }
    assert_eq!(opt.evaluations(), 9);
}

#[test]
fn lbfgs_state_round_trips_and_resumes_bit_for_bit() {
    let (straight, _) = lbfgs_on_quadratic(4, 3);
    let (first, opt) = lbfgs_on_quadratic(4, 1);
    let mut resumed = Optimizer::new(opt.config().clone(), 0.0, 2);
    resumed.restore(opt.state()).unwrap();
    assert_eq!(resumed.state(), opt.state());
    let mut x = vec![first[0][0], first[0][1]];
    let mut f = |p: &[f32], g: &mut [f32]| {
        g[0] = p[0];
        g[1] = 4.0 * p[1];
        f64::from(0.5 * (p[0] * p[0] + 4.0 * p[1] * p[1]))
    };
    for want in &straight[1..] {
        let mut g = [0f32; 2];
        let loss = f(&x, &mut g);
        resumed.step_with(&mut x, &g, loss, 1.0, &mut f);
        assert_eq!(&x[..], &want[..]);
    }
}

#[test]
fn first_order_states_round_trip() {
    for config in [
        OptimizerConfig::amsgrad(),
        OptimizerConfig::adadelta(0.5),
        OptimizerConfig::adamax(0.9, 0.9),
        OptimizerConfig::asgd(),
        OptimizerConfig::Adagrad {
            lr_decay: 0.1,
            initial_accumulator_value: 0.5,
            eps: 1e-10,
        },
    ] {
        let mut a = Optimizer::new(config.clone(), 1e-3, 3);
        let mut x = vec![1.0f32, -2.0, 0.5];
        for _ in 0..3 {
            let g: Vec<f32> = x.iter().map(|v| 2.0 * v).collect();
            a.step(&mut x, &g, 0.05);
        }
        let mut b = Optimizer::new(config.clone(), 1e-3, 3);
        b.restore(a.state()).unwrap();
        let mut y = x.clone();
        for _ in 0..3 {
            let g: Vec<f32> = x.iter().map(|v| 2.0 * v).collect();
            a.step(&mut x, &g, 0.05);
            let g: Vec<f32> = y.iter().map(|v| 2.0 * v).collect();
            b.step(&mut y, &g, 0.05);
        }
        assert_eq!(x, y, "{config:?}");
    }
}

#[test]
fn restore_names_a_missing_or_mis_sized_vector() {
    let mut opt = Optimizer::new(OptimizerConfig::amsgrad(), 0.0, 3);
    let mut state = Optimizer::new(OptimizerConfig::adam(), 0.0, 3).state();
    let e = opt.restore(state.clone()).unwrap_err().to_string();
    assert!(e.contains("max_second"), "{e}");
    state.vectors.insert("max_second".into(), vec![0.0; 2]);
    let e = opt.restore(state).unwrap_err().to_string();
    assert!(
        e.contains("max_second") && e.contains("3 parameters"),
        "{e}"
    );
}

#[test]
fn clipping_caps_the_global_norm() {
    let mut g = vec![3.0f32, 4.0];
    assert_eq!(clip_global_norm(&mut g, Some(1.0)), 5.0);
    assert!((g[0] - 0.6).abs() < 1e-6 && (g[1] - 0.8).abs() < 1e-6);
    let mut h = vec![0.3f32, 0.4];
    clip_global_norm(&mut h, Some(1.0));
    assert_eq!(h, vec![0.3, 0.4]);
}

#[test]
fn rejects_bad_hyper_parameters_naming_field_and_range() {
    let cases = [
        (
            OptimizerConfig::Adam {
                beta1: 1.0,
                beta2: 0.9,
                eps: 1e-8,
                amsgrad: false,
            },
            "beta1 is 1, expected a value in [0, 1)",
        ),
        (
            OptimizerConfig::Sgd {
                momentum: 0.0,
                nesterov: true,
            },
            "momentum is 0",
        ),
        (
            OptimizerConfig::Adadelta {
                rho: 1.5,
                eps: 1e-6,
            },
            "rho is 1.5, expected a value in [0, 1]",
        ),
        (
            OptimizerConfig::Adagrad {
                lr_decay: -1.0,
                initial_accumulator_value: 0.0,
                eps: 1e-10,
            },
            "lr_decay is -1, expected a finite number >= 0",
        ),
        (
            OptimizerConfig::Adamax {
                beta1: 0.9,
                beta2: 0.9,
                eps: 0.0,
            },
            "eps is 0, expected a finite number > 0",
        ),
        (
            OptimizerConfig::Asgd {
                lambd: 1e-4,
                alpha: f32::NAN,
                t0: 1e6,
            },
            "alpha is NaN",
        ),
        (
            OptimizerConfig::Lbfgs {
                max_iter: 0,
                max_eval: None,
                tolerance_grad: 1e-7,
                tolerance_change: 1e-9,
                history_size: 100,
            },
            "max_iter is 0, expected an integer >= 1",
        ),
    ];
    for (config, want) in cases {
        let e = config.validate().unwrap_err().to_string();
        assert!(e.contains(want), "{config:?}: {e}");
    }
}

#[test]
fn configs_read_with_pytorch_defaults() {
    let c: OptimizerConfig = serde_json::from_str(r#"{"kind": "lbfgs"}"#).unwrap();
    assert_eq!(c, OptimizerConfig::lbfgs());
    let c: OptimizerConfig = serde_json::from_str(r#"{"kind": "adam", "amsgrad": true}"#).unwrap();
    assert_eq!(c, OptimizerConfig::amsgrad());
    // Plain Adam serialises as before AMSGrad existed, so older run files compare equal.
    let text = serde_json::to_string(&OptimizerConfig::adam()).unwrap();
    assert!(!text.contains("amsgrad"), "{text}");
    for name in ["adagrad", "adadelta", "adamax", "asgd"] {
        let c: OptimizerConfig = serde_json::from_str(&format!(r#"{{"kind": "{name}"}}"#)).unwrap();
        c.validate().unwrap();
    }
}
