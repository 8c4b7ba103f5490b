//! Every operator on small inputs, against values computed independently (by formula, by hand
//! or by naive reference loops written here).

mod common;

use common::*;
use genviz_onnx::builder::{attr_float, attr_int, attr_ints, attr_str, attr_tensor, GraphBuilder};
use genviz_onnx::host::Host;

const X4: [f32; 4] = [-2.0, -0.5, 0.0, 1.5];

fn unary(op: &str, attrs: Vec<genviz_onnx::proto::AttributeProto>) -> Vec<f32> {
    let op = op.to_string();
    run(&[4], &X4, 1, move |g, x| g.node(&op, &[x], attrs))
}

fn expect(f: impl Fn(f64) -> f64) -> Vec<f32> {
    X4.iter().map(|&x| f(f64::from(x)) as f32).collect()
}

/// erf by its Taylor series (converges fast for |x| <= 3), for reference values.
fn erf(x: f64) -> f64 {
    let mut term = x;
    let mut sum = x;
    for n in 1..60 {
        term *= -x * x / n as f64;
        sum += term / (2 * n + 1) as f64;
    }
    sum * 2.0 / std::f64::consts::PI.sqrt()
}

#[test]
fn activations_match_their_formulas() {
    assert_close(&unary("Relu", vec![]), &expect(|x| x.max(0.0)), 1e-6);
    assert_close(
        &unary("Sigmoid", vec![]),
        &expect(|x| 1.0 / (1.0 + (-x).exp())),
        1e-6,
    );
    assert_close(&unary("Tanh", vec![]), &expect(f64::tanh), 1e-6);
    assert_close(&unary("Erf", vec![]), &expect(erf), 1e-6);
    assert_close(&unary("Abs", vec![]), &expect(f64::abs), 0.0);
    assert_close(&unary("Neg", vec![]), &expect(|x| -x), 0.0);
    assert_close(&unary("Exp", vec![]), &expect(f64::exp), 1e-6);
    assert_close(&unary("Floor", vec![]), &expect(f64::floor), 0.0);
    assert_close(&unary("Ceil", vec![]), &expect(f64::ceil), 0.0);
    assert_close(
        &unary("LeakyRelu", vec![attr_float("alpha", 0.1)]),
        &expect(|x| if x > 0.0 { x } else { 0.1 * x }),
        1e-6,
    );
    assert_close(
        &unary("HardSigmoid", vec![]),
        &expect(|x| (0.2 * x + 0.5).clamp(0.0, 1.0)),
        1e-6,
    );
    assert_close(
        &unary("HardSwish", vec![]),
        &expect(|x| x * (x / 6.0 + 0.5).clamp(0.0, 1.0)),
        1e-6,
    );
    assert_close(
        &unary("Softplus", vec![]),
        &expect(|x| x.exp().ln_1p()),
        1e-6,
    );
    assert_close(
        &unary("Gelu", vec![]),
        &expect(|x| 0.5 * x * (1.0 + erf(x / 2f64.sqrt()))),
        1e-6,
    );
    let c = (2.0 / std::f64::consts::PI).sqrt();
    assert_close(
        &unary("Gelu", vec![attr_str("approximate", "tanh")]),
        &expect(|x| 0.5 * x * (1.0 + (c * (x + 0.044715 * x.powi(3))).tanh())),
        1e-6,
    );
    // Sqrt, Log and Reciprocal on |x| + 1.
    let shifted = |op: &'static str| {
        run(&[4], &X4, 1, move |g, x| {
            let a = g.node("Abs", &[x], vec![]);
            let one = floats(g, &[], &[1.0]);
            let p = g.node("Add", &[&a, &one], vec![]);
            g.node(op, &[&p], vec![])
        })
    };
    assert_close(&shifted("Sqrt"), &expect(|x| (x.abs() + 1.0).sqrt()), 1e-6);
    assert_close(&shifted("Log"), &expect(|x| (x.abs() + 1.0).ln()), 1e-6);
    assert_close(
        &shifted("Reciprocal"),
        &expect(|x| 1.0 / (x.abs() + 1.0)),
        1e-6,
    );
}

#[test]
fn clip_takes_optional_bounds() {
    let both = run(&[4], &X4, 1, |g, x| {
        let lo = floats(g, &[], &[-1.0]);
        let hi = floats(g, &[], &[1.0]);
        g.node("Clip", &[x, &lo, &hi], vec![])
    });
    assert_close(&both, &[-1.0, -0.5, 0.0, 1.0], 0.0);
    let lower = run(&[4], &X4, 1, |g, x| {
        let lo = floats(g, &[], &[-0.25]);
        g.node("Clip", &[x, &lo], vec![])
    });
    assert_close(&lower, &[-0.25, -0.25, 0.0, 1.5], 0.0);
    let upper = run(&[4], &X4, 1, |g, x| {
        let hi = floats(g, &[], &[0.0]);
        g.node("Clip", &[x, "", &hi], vec![])
    });
    assert_close(&upper, &[-2.0, -0.5, 0.0, 0.0], 0.0);
}

const X23: [f32; 6] = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0];

#[test]
fn arithmetic_broadcasts_like_numpy() {
    let add = run(&[2, 3], &X23, 1, |g, x| {
        let row = floats(g, &[3], &[10.0, 20.0, 30.0]);
        g.node("Add", &[x, &row], vec![])
    });
    assert_close(&add, &[11.0, 22.0, 33.0, 14.0, 25.0, 36.0], 0.0);
    let sub = run(&[2, 3], &X23, 1, |g, x| {
        let s = floats(g, &[], &[1.0]);
        g.node("Sub", &[&s, x], vec![])
    });
    assert_close(&sub, &[0.0, -1.0, -2.0, -3.0, -4.0, -5.0], 0.0);
    let div = run(&[2, 3], &X23, 1, |g, x| {
        let col = floats(g, &[2, 1], &[2.0, 4.0]);
        g.node("Div", &[x, &col], vec![])
    });
    assert_close(&div, &[0.5, 1.0, 1.5, 1.0, 1.25, 1.5], 1e-7);
    let div_scalar = run(&[2, 3], &X23, 1, |g, x| {
        let s = floats(g, &[1, 1, 1], &[2.0]);
        g.node("Div", &[&s, x], vec![])
    });
    assert_close(&div_scalar, &X23.map(|v| 2.0 / v), 1e-6);
    let pow = run(&[2, 3], &X23, 1, |g, x| {
        let e = floats(g, &[3], &[1.0, 2.0, 0.5]);
        g.node("Pow", &[x, &e], vec![])
    });
    assert_close(&pow, &[1.0, 4.0, 3f32.sqrt(), 4.0, 25.0, 6f32.sqrt()], 1e-6);
    let square = run(&[2, 3], &X23, 1, |g, x| {
        let e = ints(g, &[2]);
        g.node("Pow", &[x, &e], vec![])
    });
    assert_close(&square, &X23.map(|v| v * v), 1e-6);
    let fmod = run(&[2, 3], &X23, 1, |g, x| {
        let m = floats(g, &[], &[4.0]);
        let neg = g.node("Neg", &[x], vec![]);
        g.node("Mod", &[&neg, &m], vec![attr_int("fmod", 1)])
    });
    assert_close(&fmod, &[-1.0, -2.0, -3.0, 0.0, -1.0, -2.0], 1e-6);
    let twice: Vec<f32> = X23.iter().chain(&X23).copied().collect();
    let mul = run(&[2, 3], &twice, 2, |g, x| g.node("Mul", &[x, x], vec![]));
    assert_close(&mul[6..], &X23.map(|v| v * v), 0.0);
}

#[test]
fn variadic_max_min_sum() {
    let c = |g: &mut GraphBuilder| floats(g, &[3], &[2.0, 5.0, 0.0]);
    let max = run(&[2, 3], &X23, 1, |g, x| {
        let k = c(g);
        g.node("Max", &[x, &k], vec![])
    });
    assert_close(&max, &[2.0, 5.0, 3.0, 4.0, 5.0, 6.0], 0.0);
    let min = run(&[2, 3], &X23, 1, |g, x| {
        let k = c(g);
        g.node("Min", &[x, &k], vec![])
    });
    assert_close(&min, &[1.0, 2.0, 0.0, 2.0, 5.0, 0.0], 0.0);
    let sum = run(&[2, 3], &X23, 1, |g, x| {
        let k = c(g);
        g.node("Sum", &[x, &k, x], vec![])
    });
    assert_close(&sum, &[4.0, 9.0, 6.0, 10.0, 15.0, 12.0], 0.0);
}

#[test]
fn comparisons_and_where_make_masks() {
    // Where(x > 0, x, 0) is ReLU; Where(x == -0.5 or x < -1, 1, 0) picks two entries.
    let relu = run(&[4], &X4, 1, |g, x| {
        let zero = floats(g, &[], &[0.0]);
        let m = g.node("Greater", &[x, &zero], vec![]);
        g.node("Where", &[&m, x, &zero], vec![])
    });
    assert_close(&relu, &[0.0, 0.0, 0.0, 1.5], 0.0);
    let picked = run(&[4], &X4, 1, |g, x| {
        let half = floats(g, &[], &[-0.5]);
        let minus_one = floats(g, &[], &[-1.0]);
        let eq = g.node("Equal", &[x, &half], vec![]);
        let lt = g.node("Less", &[x, &minus_one], vec![]);
        let either = g.node("Or", &[&eq, &lt], vec![]);
        let both = g.node("And", &[&eq, &lt], vec![]);
        let neither = g.node("Not", &[&both], vec![]);
        let keep = g.node("And", &[&either, &neither], vec![]);
        let one = floats(g, &[], &[1.0]);
        let zero = floats(g, &[], &[0.0]);
        g.node("Where", &[&keep, &one, &zero], vec![])
    });
    assert_close(&picked, &[1.0, 1.0, 0.0, 0.0], 0.0);
    let ge = run(&[4], &X4, 1, |g, x| {
        let zero = floats(g, &[], &[0.0]);
        let m1 = g.node("GreaterOrEqual", &[x, &zero], vec![]);
        let m2 = g.node("LessOrEqual", &[x, &zero], vec![]);
        let a = g.node("Cast", &[&m1], vec![attr_int("to", 1)]);
        let b = g.node("Cast", &[&m2], vec![attr_int("to", 1)]);
        g.node("Sub", &[&a, &b], vec![])
    });
    assert_close(&ge, &[-1.0, -1.0, 0.0, 1.0], 0.0);
}

#[test]
fn casts_truncate_and_cast_like_follows_its_target() {
    let out = run(&[4], &[-1.7, 2.9, 0.2, 5.5], 1, |g, x| {
        let i = g.node("Cast", &[x], vec![attr_int("to", 7)]);
        let like = floats(g, &[], &[0.0]);
        g.node("CastLike", &[&i, &like], vec![])
    });
    assert_close(&out, &[-1.0, 2.0, 0.0, 5.0], 0.0);
}

#[test]
fn reshapes_squeezes_and_transposes() {
    let x: Vec<f32> = (0..12).map(|v| v as f32).collect();
    let t = run(&[2, 3, 2], &x, 1, |g, x| {
        let shape = ints(g, &[0, -1, 2]);
        let r = g.node("Reshape", &[x, &shape], vec![]);
        g.node("Transpose", &[&r], vec![attr_ints("perm", &[0, 2, 1])])
    });
    // [1, 6, 2] transposed to [1, 2, 6].
    assert_close(&t, &[0., 2., 4., 6., 8., 10., 1., 3., 5., 7., 9., 11.], 0.0);
    let sq = run(&[2, 3, 2], &x, 1, |g, x| {
        let axes = ints(g, &[1, -1]);
        let u = g.node("Unsqueeze", &[x, &axes], vec![]);
        let axes = ints(g, &[1]);
        g.node("Squeeze", &[&u, &axes], vec![])
    });
    assert_close(&sq, &x, 0.0);
    // Flatten at axis 2 folds the batch into the rows; a Reshape restores it.
    let flat = run(&[2, 3, 2], &x, 1, |g, x| {
        let f = g.node("Flatten", &[x], vec![attr_int("axis", 2)]);
        let shape = ints(g, &[-1, 12]);
        g.node("Reshape", &[&f, &shape], vec![])
    });
    assert_close(&flat, &x, 0.0);
}

#[test]
fn concat_slice_gather_expand_split() {
    let c = run(&[2, 3], &X23, 1, |g, x| {
        let (starts, ends, axes) = (ints(g, &[0]), ints(g, &[1]), ints(g, &[2]));
        let first = g.node("Slice", &[x, &starts, &ends, &axes], vec![]);
        g.node("Concat", &[x, &first], vec![attr_int("axis", 2)])
    });
    assert_close(&c, &[1., 2., 3., 1., 4., 5., 6., 4.], 0.0);
    let s = run(&[2, 3], &X23, 1, |g, x| {
        let starts = ints(g, &[-1, 0]);
        let ends = ints(g, &[i64::MIN, 3]);
        let axes = ints(g, &[2, 1]);
        let steps = ints(g, &[-2, 1]);
        g.node("Slice", &[x, &starts, &ends, &axes, &steps], vec![])
    });
    // Columns 2 then 0 of each row.
    assert_close(&s, &[3., 1., 6., 4.], 0.0);
    let s2 = run(&[2, 3], &X23, 1, |g, x| {
        let starts = ints(g, &[1]);
        let ends = ints(g, &[100]);
        let axes = ints(g, &[-1]);
        g.node("Slice", &[x, &starts, &ends, &axes], vec![])
    });
    assert_close(&s2, &[2., 3., 5., 6.], 0.0);
    let gathered = run(&[2, 3], &X23, 1, |g, x| {
        let idx = g.node(
            "Constant",
            &[],
            vec![attr_tensor("value", &Host::i64(&[2, 2], vec![2, 0, -1, 1]))],
        );
        g.node("Gather", &[x, &idx], vec![attr_int("axis", 2)])
    });
    assert_close(&gathered, &[3., 1., 3., 2., 6., 4., 6., 5.], 0.0);
    let e = run(&[2, 1], &[1.0, 2.0], 1, |g, x| {
        let shape = ints(g, &[2, 3]);
        g.node("Expand", &[x, &shape], vec![])
    });
    assert_close(&e, &[1., 1., 1., 2., 2., 2.], 0.0);
    let parts = run(&[2, 3], &X23, 1, |g, x| {
        let sizes = ints(g, &[1, 2]);
        let out = g.node_n("Split", &[x, &sizes], 2, vec![attr_int("axis", 2)]);
        g.node("Concat", &[&out[1], &out[0]], vec![attr_int("axis", 2)])
    });
    assert_close(&parts, &[2., 3., 1., 5., 6., 4.], 0.0);
    // Opset 18's num_outputs: chunks of ceil(5 / 3) = 2, the last one smaller.
    let uneven = run_opset(&[1, 5], 18, &[1., 2., 3., 4., 5.], 1, |g, x| {
        let out = g.node_n(
            "Split",
            &[x],
            3,
            vec![attr_int("axis", 2), attr_int("num_outputs", 3)],
        );
        g.node(
            "Concat",
            &[&out[2], &out[1], &out[0]],
            vec![attr_int("axis", 2)],
        )
    });
    assert_close(&uneven, &[5., 3., 4., 1., 2.], 0.0);
}

#[test]
fn shape_arithmetic_runs_on_the_host() {
    // Shape -> Gather -> Cast -> Mul: multiply by the number of columns, computed from the
    // input's shape; Range, ConstantOfShape and Size too.
    let out = run(&[2, 3], &X23, 1, |g, x| {
        let shape = g.node("Shape", &[x], vec![attr_int("start", 1)]);
        let last = ints(g, &[1]);
        let cols = g.node("Gather", &[&shape, &last], vec![attr_int("axis", 0)]);
        let cols = g.node("Cast", &[&cols], vec![attr_int("to", 1)]);
        let scaled = g.node("Mul", &[x, &cols], vec![]);
        let start = g.node(
            "Constant",
            &[],
            vec![attr_tensor("value", &Host::i64(&[], vec![0]))],
        );
        let limit = g.node(
            "Constant",
            &[],
            vec![attr_tensor("value", &Host::i64(&[], vec![3]))],
        );
        let delta = g.node(
            "Constant",
            &[],
            vec![attr_tensor("value", &Host::i64(&[], vec![1]))],
        );
        let r = g.node("Range", &[&start, &limit, &delta], vec![]);
        let r = g.node("Cast", &[&r], vec![attr_int("to", 1)]);
        let with_range = g.node("Add", &[&scaled, &r], vec![]);
        let dims = ints(g, &[1, 2, 3]);
        let ones = g.node(
            "ConstantOfShape",
            &[&dims],
            vec![attr_tensor("value", &Host::f32(&[1], vec![0.5]))],
        );
        let size = g.node("Size", &[x], vec![]);
        let size = g.node("Cast", &[&size], vec![attr_int("to", 1)]);
        let a = g.node("Add", &[&with_range, &ones], vec![]);
        g.node("Add", &[&a, &size], vec![])
    });
    let want: Vec<f32> = X23
        .iter()
        .enumerate()
        .map(|(k, v)| v * 3.0 + (k % 3) as f32 + 0.5 + 6.0)
        .collect();
    assert_close(&out, &want, 0.0);
}

#[test]
fn identity_and_inference_dropout_pass_through() {
    let out = run(&[4], &X4, 1, |g, x| {
        let i = g.node("Identity", &[x], vec![]);
        g.node("Dropout", &[&i], vec![attr_float("ratio", 0.5)])
    });
    assert_close(&out, &X4, 0.0);
}

#[test]
fn pad_modes() {
    let x = [1.0, 2.0, 3.0];
    let pad = |mode: &'static str, pads: [i64; 6]| {
        run(&[1, 3], &x, 1, move |g, v| {
            let p = ints(g, &pads);
            let value = floats(g, &[], &[9.0]);
            g.node("Pad", &[v, &p, &value], vec![attr_str("mode", mode)])
        })
    };
    assert_close(
        &pad("constant", [0, 0, 1, 0, 0, 2]),
        &[9., 1., 2., 3., 9., 9.],
        0.0,
    );
    assert_close(&pad("constant", [0, 0, -1, 0, 0, 1]), &[2., 3., 9.], 0.0);
    assert_close(
        &pad("reflect", [0, 0, 2, 0, 0, 1]),
        &[3., 2., 1., 2., 3., 2.],
        0.0,
    );
    assert_close(
        &pad("edge", [0, 0, 1, 0, 0, 2]),
        &[1., 1., 2., 3., 3., 3.],
        0.0,
    );
    assert_close(&pad("wrap", [0, 0, 1, 0, 0, 1]), &[3., 1., 2., 3., 1.], 0.0);
}

/// Naive 2-D convolution: x `[c, h, w]`, w `[m, c / group, kh, kw]`, pads `[top, left,
/// bottom, right]`.
#[allow(clippy::too_many_arguments)]
fn conv_reference(
    x: &[f32],
    (c, h, wd): (usize, usize, usize),
    w: &[f32],
    (m, kh, kw): (usize, usize, usize),
    bias: &[f32],
    stride: usize,
    dil: usize,
    pads: [usize; 4],
    group: usize,
) -> Vec<f32> {
    let cg = c / group;
    let oh = (h + pads[0] + pads[2] - dil * (kh - 1) - 1) / stride + 1;
    let ow = (wd + pads[1] + pads[3] - dil * (kw - 1) - 1) / stride + 1;
    let mut out = vec![0f32; m * oh * ow];
    for o in 0..m {
        let g = o / (m / group);
        for i in 0..oh {
            for j in 0..ow {
                let mut s = f64::from(bias.get(o).copied().unwrap_or(0.0));
                for ci in 0..cg {
                    for a in 0..kh {
                        for b in 0..kw {
                            let y = (i * stride + a * dil) as i64 - pads[0] as i64;
                            let z = (j * stride + b * dil) as i64 - pads[1] as i64;
                            if y < 0 || z < 0 || y >= h as i64 || z >= wd as i64 {
                                continue;
                            }
                            let xv = x[(g * cg + ci) * h * wd + y as usize * wd + z as usize];
                            let wv = w[((o * cg + ci) * kh + a) * kw + b];
                            s += f64::from(xv) * f64::from(wv);
                        }
                    }
                }
                out[(o * oh + i) * ow + j] = s as f32;
            }
        }
    }
    out
}

fn ramp(n: usize, scale: f32) -> Vec<f32> {
    (0..n)
        .map(|k| ((k * 7 % 11) as f32 - 5.0) * scale)
        .collect()
}

#[test]
fn conv_matches_a_naive_reference() {
    let (c, h, wd) = (4, 5, 6);
    let x = ramp(c * h * wd, 0.1);
    for (m, k, stride, dil, pads, group) in [
        (3, 3, 1, 1, [1, 1, 1, 1], 1),
        (2, 2, 2, 1, [0, 1, 1, 0], 1),
        (4, 3, 1, 2, [2, 2, 2, 2], 2),
        (4, 1, 1, 1, [0, 0, 0, 0], 4),
    ] {
        let w = ramp(m * (c / group) * k * k, 0.05);
        let bias: Vec<f32> = (0..m).map(|v| v as f32 * 0.25).collect();
        let want = conv_reference(
            &x,
            (c, h, wd),
            &w,
            (m, k, k),
            &bias,
            stride,
            dil,
            pads,
            group,
        );
        let (w2, b2) = (w.clone(), bias.clone());
        let got = run(&[c, h, wd], &x, 1, move |g, v| {
            let wi = g.initializer("w", &Host::f32(&[m, c / group, k, k], w2));
            let bi = g.initializer("b", &Host::f32(&[m], b2));
            g.node(
                "Conv",
                &[v, &wi, &bi],
                vec![
                    attr_ints("strides", &[stride as i64, stride as i64]),
                    attr_ints("dilations", &[dil as i64, dil as i64]),
                    attr_ints("pads", &pads.map(|p| p as i64)),
                    attr_int("group", group as i64),
                ],
            )
        });
        assert_close(&got, &want, 1e-5);
    }
    // SAME_UPPER padding and a 1-D convolution.
    let got = run(&[1, 5], &[1., 2., 3., 4., 5.], 1, |g, v| {
        let wi = g.initializer("w", &Host::f32(&[1, 1, 2], vec![1.0, 10.0]));
        g.node("Conv", &[v, &wi], vec![attr_str("auto_pad", "SAME_UPPER")])
    });
    assert_close(&got, &[21., 32., 43., 54., 5.], 1e-6);
}

/// Naive max or average pooling of one `[h, w]` plane, PyTorch's ceil rule.
#[allow(clippy::too_many_arguments)]
fn pool_reference(
    x: &[f32],
    (h, w): (usize, usize),
    k: usize,
    stride: usize,
    pads: [usize; 4],
    ceil: bool,
    max: bool,
    include_pad: bool,
) -> Vec<f32> {
    let size = |n: usize, a: usize, b: usize| {
        let span = n + a + b - k;
        let mut o = if ceil {
            span.div_ceil(stride)
        } else {
            span / stride
        } + 1;
        if ceil && (o - 1) * stride >= n + a {
            o -= 1;
        }
        o
    };
    let (oh, ow) = (size(h, pads[0], pads[2]), size(w, pads[1], pads[3]));
    let mut out = Vec::new();
    for i in 0..oh {
        for j in 0..ow {
            let (mut best, mut sum, mut count, mut padded) = (f32::NEG_INFINITY, 0f32, 0, 0);
            for a in 0..k {
                for b in 0..k {
                    let y = (i * stride + a) as i64 - pads[0] as i64;
                    let z = (j * stride + b) as i64 - pads[1] as i64;
                    let inside_padding =
                        y < h as i64 + pads[2] as i64 && z < w as i64 + pads[3] as i64;
                    if y < 0 || z < 0 || y >= h as i64 || z >= w as i64 {
                        padded += usize::from(inside_padding);
                        continue;
                    }
                    let v = x[y as usize * w + z as usize];
                    best = best.max(v);
                    sum += v;
                    count += 1;
                }
            }
            out.push(if max {
                best
            } else {
                sum / (count + if include_pad { padded } else { 0 }) as f32
            });
        }
    }
    out
}

#[test]
fn pooling_matches_a_naive_reference() {
    let (h, w) = (5, 7);
    let x = ramp(h * w, 1.0);
    for (k, stride, pads, ceil) in [
        (2, 2, [0, 0, 0, 0], false),
        (3, 2, [1, 1, 1, 1], false),
        (2, 2, [0, 0, 0, 0], true),
        (3, 2, [1, 0, 0, 1], true),
    ] {
        let want = pool_reference(&x, (h, w), k, stride, pads, ceil, true, false);
        let got = run(&[1, h, w], &x, 1, move |g, v| {
            g.node(
                "MaxPool",
                &[v],
                vec![
                    attr_ints("kernel_shape", &[k as i64, k as i64]),
                    attr_ints("strides", &[stride as i64, stride as i64]),
                    attr_ints("pads", &pads.map(|p| p as i64)),
                    attr_int("ceil_mode", i64::from(ceil)),
                ],
            )
        });
        assert_close(&got, &want, 0.0);
    }
    for (pads, include) in [
        ([1, 1, 1, 1], false),
        ([1, 1, 1, 1], true),
        ([0, 1, 1, 0], true),
    ] {
        let want = pool_reference(&x, (h, w), 3, 2, pads, false, false, include);
        let got = run(&[1, h, w], &x, 1, move |g, v| {
            g.node(
                "AveragePool",
                &[v],
                vec![
                    attr_ints("kernel_shape", &[3, 3]),
                    attr_ints("strides", &[2, 2]),
                    attr_ints("pads", &pads.map(|p| p as i64)),
                    attr_int("count_include_pad", i64::from(include)),
                ],
            )
        });
        assert_close(&got, &want, 1e-6);
    }
    let gap = run(
        &[2, 2, 2],
        &[1., 2., 3., 4., 10., 20., 30., 40.],
        1,
        |g, v| g.node("GlobalAveragePool", &[v], vec![]),
    );
    assert_close(&gap, &[2.5, 25.0], 1e-6);
}

#[test]
fn normalisations() {
    let x: Vec<f32> = (0..8).map(|v| v as f32).collect();
    // BatchNormalization on [1, 2, 2, 2] with the stored statistics.
    let bn = run(&[2, 2, 2], &x, 1, |g, v| {
        let s = g.initializer("bn.weight", &Host::f32(&[2], vec![2.0, 0.5]));
        let b = g.initializer("bn.bias", &Host::f32(&[2], vec![1.0, -1.0]));
        let m = g.initializer("bn.running_mean", &Host::f32(&[2], vec![1.0, 5.0]));
        let var = g.initializer("bn.running_var", &Host::f32(&[2], vec![4.0, 0.25]));
        g.node(
            "BatchNormalization",
            &[v, &s, &b, &m, &var],
            vec![attr_float("epsilon", 0.0)],
        )
    });
    let want: Vec<f32> = x
        .iter()
        .enumerate()
        .map(|(k, &v)| {
            if k < 4 {
                (v - 1.0) / 2.0 * 2.0 + 1.0
            } else {
                (v - 5.0) / 0.5 * 0.5 - 1.0
            }
        })
        .collect();
    assert_close(&bn, &want, 1e-6);
    // LayerNormalization over the last axis of [1, 2, 4].
    let ln = run(&[2, 4], &x, 1, |g, v| {
        let s = g.initializer("ln.weight", &Host::f32(&[4], vec![1.0, 2.0, 1.0, 0.5]));
        let b = g.initializer("ln.bias", &Host::f32(&[4], vec![0.0, 0.0, 1.0, 0.0]));
        g.node(
            "LayerNormalization",
            &[v, &s, &b],
            vec![attr_int("axis", -1)],
        )
    });
    let z = [-1.5f32, -0.5, 0.5, 1.5];
    let sd = (1.25f32 + 1e-5).sqrt();
    let want: Vec<f32> = (0..8)
        .map(|k| z[k % 4] / sd * [1.0, 2.0, 1.0, 0.5][k % 4] + [0.0, 0.0, 1.0, 0.0][k % 4])
        .collect();
    assert_close(&ln, &want, 1e-5);
}

#[test]
fn dense_products() {
    // Gemm with both transposes, alpha and beta: A is the input [1, 3] handed over transposed.
    let gemm = run(&[3], &[1., 2., 3.], 1, |g, v| {
        let a = g.node("Transpose", &[v], vec![]);
        let b = floats(g, &[2, 3], &[1., 0., 1., 0., 1., 0.]);
        let c = floats(g, &[2], &[1., 2.]);
        g.node(
            "Gemm",
            &[&a, &b, &c],
            vec![
                attr_int("transA", 1),
                attr_int("transB", 1),
                attr_float("alpha", 2.0),
                attr_float("beta", 0.5),
            ],
        )
    });
    // x B^T = [4, 2]; times 2 plus 0.5 * C.
    assert_close(&gemm, &[8.5, 5.0], 1e-6);
    // MatMul [1, 2, 3] x [3, 2], then a batched [1, 1, 2, 2] x [2, 2, 2] (broadcast), then a
    // vector on the right.
    let mm = run(&[2, 3], &X23, 1, |g, v| {
        let w = floats(g, &[3, 2], &[1., 0., 0., 1., 1., 1.]);
        let y = g.node("MatMul", &[v, &w], vec![]);
        let axes = ints(g, &[1]);
        let y = g.node("Unsqueeze", &[&y, &axes], vec![]);
        let b = floats(g, &[2, 2, 2], &[1., 0., 0., 1., 0., 1., 1., 0.]);
        let y = g.node("MatMul", &[&y, &b], vec![]);
        let col = floats(g, &[2], &[1., 10.]);
        g.node("MatMul", &[&y, &col], vec![])
    });
    // x W = [[4, 5], [10, 11]] as [1, 1, 2, 2]; times I gives the same, times the swap gives
    // [[5, 4], [11, 10]]; each row dotted with [1, 10].
    assert_close(&mm, &[54., 120., 45., 111.], 1e-5);
}

#[test]
fn softmax_and_reductions() {
    let sm = run(&[2, 3], &X23, 1, |g, v| {
        g.node("Softmax", &[v], vec![attr_int("axis", 1)])
    });
    let col = |a: f32, b: f32| {
        let (ea, eb) = (a.exp(), b.exp());
        (ea / (ea + eb), eb / (ea + eb))
    };
    let mut want = vec![0f32; 6];
    for j in 0..3 {
        let (p, q) = col(X23[j], X23[3 + j]);
        want[j] = p;
        want[3 + j] = q;
    }
    assert_close(&sm, &want, 1e-6);
    let lsm = run(&[2, 3], &X23, 1, |g, v| g.node("LogSoftmax", &[v], vec![]));
    let lse = |r: &[f32]| r.iter().map(|v| v.exp()).sum::<f32>().ln();
    let want: Vec<f32> = X23
        .iter()
        .enumerate()
        .map(|(k, v)| v - lse(&X23[k / 3 * 3..k / 3 * 3 + 3]))
        .collect();
    assert_close(&lsm, &want, 1e-6);
    let mean17 = run(&[2, 3], &X23, 1, |g, v| {
        g.node(
            "ReduceMean",
            &[v],
            vec![attr_ints("axes", &[2]), attr_int("keepdims", 0)],
        )
    });
    assert_close(&mean17, &[2.0, 5.0], 1e-6);
    let mean18 = run_opset(&[2, 3], 18, &X23, 1, |g, v| {
        let axes = ints(g, &[1]);
        g.node("ReduceMean", &[v, &axes], vec![])
    });
    assert_close(&mean18, &[2.5, 3.5, 4.5], 1e-6);
    let sum = run(&[2, 3], &X23, 1, |g, v| {
        let axes = ints(g, &[1, 2]);
        let s = g.node("ReduceSum", &[v, &axes], vec![attr_int("keepdims", 0)]);
        let axes = ints(g, &[1]);
        let s = g.node("Unsqueeze", &[&s, &axes], vec![]);
        let two = floats(g, &[2], &[1.0, 2.0]);
        g.node("Mul", &[&s, &two], vec![])
    });
    assert_close(&sum, &[21.0, 42.0], 1e-6);
    let max = run_opset(&[2, 3], 18, &X23, 1, |g, v| {
        let axes = ints(g, &[-1]);
        g.node("ReduceMax", &[v, &axes], vec![])
    });
    assert_close(&max, &[3.0, 6.0], 0.0);
}

#[test]
fn ops_fail_with_the_node_its_operator_and_input_shapes() {
    let msg = load_error(&[2, 3], |g, v| {
        let w = g.initializer("w", &Host::f32(&[4, 2], vec![0.0; 8]));
        g.node("MatMul", &[v, &w], vec![])
    });
    assert!(
        msg.contains("(MatMul)") && msg.contains("[2, 2, 3] float") && msg.contains("[4, 2] float"),
        "{msg}"
    );
    assert!(msg.contains("inner dimensions 3 and 4"), "{msg}");
    let msg = load_error(&[2, 3], |g, v| {
        let shape = ints(g, &[5, -1]);
        g.node("Reshape", &[v, &shape], vec![])
    });
    assert!(
        msg.contains("(Reshape)") && msg.contains("no whole size"),
        "{msg}"
    );
    let msg = load_error(&[2, 4], |g, v| {
        g.node_n("Split", &[v], 3, vec![attr_int("axis", 2)])
            .remove(0)
    });
    assert!(
        msg.contains("(Split)") && msg.contains("3 equal parts"),
        "{msg}"
    );
    let msg = load_error(&[1, 3], |g, v| {
        let p = ints(g, &[0, 0, 3, 0, 0, 0]);
        g.node("Pad", &[v, &p], vec![attr_str("mode", "reflect")])
    });
    assert!(
        msg.contains("(Pad)") && msg.contains("smaller than axis"),
        "{msg}"
    );
    let msg = load_error(&[2, 3], |g, v| {
        let idx = ints(g, &[3]);
        g.node("Gather", &[v, &idx], vec![attr_int("axis", 2)])
    });
    assert!(
        msg.contains("(Gather)") && msg.contains("index 3 is outside 0..3"),
        "{msg}"
    );
    let msg = load_error(&[3, 4, 4], |g, v| {
        let w = g.initializer("w", &Host::f32(&[2, 2, 3, 3], vec![0.0; 36]));
        g.node("Conv", &[v, &w], vec![])
    });
    assert!(
        msg.contains("(Conv)") && msg.contains("X has 3 channels"),
        "{msg}"
    );
}
