//! The native fast paths: graphs of dense layers run on the native MLP engine, the small CNN
//! on the CPU convolution engine, and both give what the interpreter gives (losses,
//! accuracies, logits and gradients to 1e-5 relative); graphs that only look like one stay
//! with the interpreter.

use genviz_conv::{Arch, ConvSpec, CpuCnn};
use genviz_core::rng::stream;
use genviz_core::{Affine, Batch, Dataset, Network};
use genviz_mlp::{Init, MlpSpec};
use genviz_onnx::builder::{
    attr_float, attr_int, attr_ints, attr_str, attr_tensor, DimSpec, GraphBuilder,
};
use genviz_onnx::host::{Elem, Host};
use genviz_onnx::{export_conv, export_mlp, CpuBackend, OnnxModel, OnnxNet, OnnxOptions};
use rand::Rng as _;
use std::path::Path;
use std::sync::Arc;

const TOLERANCE: f64 = 1e-5;

fn load(bytes: &[u8], options: &OnnxOptions) -> OnnxNet<CpuBackend> {
    let model = OnnxModel::from_bytes(bytes, Path::new("dense.onnx"), options)
        .unwrap_or_else(|e| panic!("{e}"));
    OnnxNet::new(Arc::new(model), Default::default())
}

fn uniform(len: usize, seed: u64, scale: f32) -> Vec<f32> {
    let mut rng = stream(seed, "values");
    (0..len).map(|_| rng.gen_range(-scale..scale)).collect()
}

fn data(n: usize, dim: usize, classes: u32, seed: u64) -> Dataset {
    let labels = (0..n).map(|i| i as u32 % classes).collect();
    Dataset::new(uniform(n * dim, seed, 1.0), labels, dim, classes as usize).unwrap()
}

/// Input `x` of `[batch, channels, height, width]` floats.
fn image_input(g: &mut GraphBuilder, [c, h, w]: [usize; 3]) -> String {
    let dims = ["batch".into(), c.into(), h.into(), w.into()];
    g.input("x", Elem::Float, &dims)
}

fn close(a: f64, b: f64, what: &str) {
    assert!(
        (a - b).abs() <= TOLERANCE * b.abs().max(1e-3),
        "{what}: native path {a} vs interpreter {b}"
    );
}

/// Every `Network` method of `fast` (lowered) against `slow` (interpreted) at `theta`; for a
/// `smooth` network also `H v`, the native engine's exact one against the interpreter's
/// central differences (which a ReLU's kinks would spoil).
fn same_function(
    fast: &OnnxNet<CpuBackend>,
    slow: &OnnxNet<CpuBackend>,
    theta: &[f32],
    d: &Dataset,
    smooth: bool,
) {
    assert!(fast.runs_natively() && !slow.runs_natively());
    let points: Vec<Vec<f32>> = (0..3)
        .map(|k| {
            let v = uniform(theta.len(), 10 + k, 0.05);
            theta.iter().zip(v).map(|(t, v)| t + v).collect()
        })
        .collect();
    let refs: Vec<&[f32]> = points.iter().map(Vec::as_slice).collect();
    for (k, (a, b)) in fast
        .evaluate(&refs, d)
        .iter()
        .zip(slow.evaluate(&refs, d))
        .enumerate()
    {
        close(a.loss, b.loss, &format!("loss at point {k}"));
        assert_eq!(a.accuracy, b.accuracy, "accuracy at point {k}");
    }

    let (x, y) = (uniform(theta.len(), 20, 0.1), uniform(theta.len(), 21, 0.1));
    let plane = Affine {
        center: theta,
        x: &x,
        y: Some(&y),
    };
    let coords = [(-1.0, 0.5), (0.0, 0.0), (0.7, -1.0)];
    for (a, b) in fast
        .evaluate_affine(plane, &coords, d)
        .iter()
        .zip(slow.evaluate_affine(plane, &coords, d))
    {
        close(a.loss, b.loss, "loss on a plane");
    }

    let logits = (
        fast.logits(theta, d.features(), d.len()),
        slow.logits(theta, d.features(), d.len()),
    );
    assert_eq!(logits.0.len(), logits.1.len());
    for (a, b) in logits.0.iter().zip(&logits.1) {
        assert!((a - b).abs() <= 1e-5 * b.abs().max(1.0), "logit {a} vs {b}");
    }

    // The poisoned objective: weights per example and reverse rows.
    let n = d.len();
    let coef: Vec<f32> = (0..n).map(|i| (1 + i % 3) as f32 / n as f32).collect();
    let reverse: Vec<bool> = (0..n).map(|i| i % 5 == 0).collect();
    let batch = Batch {
        data: d,
        coef: &coef,
        reverse: &reverse,
    };
    let (mut g1, mut g2) = (vec![0f32; theta.len()], vec![0f32; theta.len()]);
    let l1 = fast.loss_grad(theta, &batch, &mut g1);
    let l2 = slow.loss_grad(theta, &batch, &mut g2);
    close(l1, l2, "weighted loss");
    let scale = g2.iter().fold(0f32, |m, v| m.max(v.abs()));
    for (k, (a, b)) in g1.iter().zip(&g2).enumerate() {
        assert!(
            (a - b).abs() <= 1e-4 * scale,
            "gradient {k}: native path {a} vs interpreter {b}"
        );
    }

    if !smooth {
        return;
    }
    let v = uniform(theta.len(), 30, 1.0);
    let (h1, h2) = (fast.hvp(theta, &v, d), slow.hvp(theta, &v, d));
    let norm = h2.iter().map(|x| x * x).sum::<f64>().sqrt();
    let diff = h1
        .iter()
        .zip(&h2)
        .map(|(a, b)| (a - b).powi(2))
        .sum::<f64>()
        .sqrt();
    assert!(
        diff <= 2e-2 * norm,
        "H v: exact and central differences differ by {diff} (norm {norm})"
    );
}

#[test]
fn the_exported_swiss_roll_net_runs_natively_and_matches_the_interpreter() {
    let spec = MlpSpec::swiss_roll();
    let theta =
        genviz_mlp::init_params(&spec, Init::GlorotUniform, &mut stream(1, "init")).into_values();
    let bytes = export_mlp(&spec, &theta).unwrap();
    let fast = load(&bytes, &OnnxOptions::default());
    let slow = fast.clone().interpreted();
    let d = genviz_data::SwissRoll::default().generate(&mut stream(2, "data"));
    same_function(&fast, &slow, &theta, &d, false);
}

/// A chain written the other ways exporters write dense layers: a `Flatten` of image-shaped
/// input, `MatMul` with an `[in, out]` weight and a bias `Add` (bias first), `Gemm` without
/// `transB` and without a bias, `Identity` nodes; `LeakyRelu` (slope 0.2) or `Tanh` between
/// the layers.
fn matmul_chain(leaky: bool) -> (Vec<u8>, Vec<f32>) {
    let mut g = GraphBuilder::new(17);
    let x = image_input(&mut g, [1, 2, 3]);
    let mut values = Vec::new();
    let mut init = |g: &mut GraphBuilder, name: &str, shape: &[usize], seed: u64| {
        let v = uniform(shape.iter().product(), seed, 0.6);
        values.extend(&v);
        g.initializer(name, &Host::f32(shape, v))
    };
    let w0 = init(&mut g, "fc0.weight_t", &[6, 5], 1);
    let b0 = init(&mut g, "fc0.bias", &[5], 2);
    let w1 = init(&mut g, "fc1.weight_t", &[5, 4], 3);
    let w2 = init(&mut g, "fc2.weight", &[3, 4], 4);
    let b2 = init(&mut g, "fc2.bias", &[1, 3], 5);
    let h = g.node("Flatten", &[&x], vec![attr_int("axis", 1)]);
    let h = g.node("MatMul", &[&h, &w0], vec![]);
    let h = g.node("Add", &[&b0, &h], vec![]);
    let act = |g: &mut GraphBuilder, h: &str| {
        if leaky {
            g.node("LeakyRelu", &[h], vec![attr_float("alpha", 0.2)])
        } else {
            g.node("Tanh", &[h], vec![])
        }
    };
    let h = act(&mut g, &h);
    let h = g.node("Identity", &[&h], vec![]);
    let h = g.node("Gemm", &[&h, &w1], vec![]);
    let h = act(&mut g, &h);
    let h = g.node("Gemm", &[&h, &w2, &b2], vec![attr_int("transB", 1)]);
    g.output(&h, Elem::Float, &["batch".into(), DimSpec::Fixed(3)]);
    (g.to_bytes(), values)
}

#[test]
fn matmul_chains_with_transposed_and_constant_weights_match_the_interpreter() {
    let d = data(60, 6, 3, 7);
    for leaky in [true, false] {
        let (bytes, theta) = matmul_chain(leaky);
        let fast = load(&bytes, &OnnxOptions::default());
        let slow = fast.clone().interpreted();
        same_function(&fast, &slow, &theta, &d, !leaky);
    }

    // Only some initializers as parameters: the others are constants of the native network.
    let options = OnnxOptions {
        params: Some("fc1|fc2.bias".into()),
        ..Default::default()
    };
    let (bytes, _) = matmul_chain(false);
    let fast = load(&bytes, &options);
    let slow = fast.clone().interpreted();
    assert_eq!(fast.layout().len(), 5 * 4 + 3);
    let theta = uniform(fast.layout().len(), 8, 0.6);
    same_function(&fast, &slow, &theta, &d, true);
}

/// An MLP on images flattened the way PyTorch's dynamo exporter writes `nn.Flatten`: a
/// `Reshape` to `[batch, 6]` with the batch size taken from the input's shape.
#[test]
fn a_dense_chain_flattened_by_a_computed_reshape_runs_natively() {
    let graph = |features: i64| {
        let mut g = GraphBuilder::new(17);
        let x = image_input(&mut g, [1, 2, 3]);
        let start = vec![attr_int("start", 0), attr_int("end", 1)];
        let batch = g.node("Shape", &[&x], start);
        let batch = g.node("Squeeze", &[&batch], vec![]);
        let axes = g.initializer("axes", &Host::i64(&[1], vec![0]));
        let batch = g.node("Unsqueeze", &[&batch, &axes], vec![]);
        let f = g.node(
            "Constant",
            &[],
            vec![attr_tensor("value", &Host::i64(&[1], vec![features]))],
        );
        let target = g.node("Concat", &[&batch, &f], vec![attr_int("axis", 0)]);
        let h = g.node("Reshape", &[&x, &target], vec![]);
        let w0 = g.initializer("w0", &Host::f32(&[4, 6], uniform(24, 1, 0.5)));
        let w1 = g.initializer("w1", &Host::f32(&[3, 4], uniform(12, 2, 0.5)));
        let h = g.node("Gemm", &[&h, &w0], vec![attr_int("transB", 1)]);
        let h = g.node("Tanh", &[&h], vec![]);
        let h = g.node("Gemm", &[&h, &w1], vec![attr_int("transB", 1)]);
        g.output(&h, Elem::Float, &["batch".into(), DimSpec::Fixed(3)]);
        g.to_bytes()
    };
    let fast = load(&graph(6), &OnnxOptions::default());
    assert_eq!(fast.native_engine(), Some("mlp"));
    let slow = fast.clone().interpreted();
    let theta = uniform(fast.layout().len(), 3, 0.5);
    same_function(&fast, &slow, &theta, &data(30, 6, 3, 4), true);
    // `-1` for the features is inferred, and right too.
    assert_eq!(
        load(&graph(-1), &OnnxOptions::default()).native_engine(),
        Some("mlp")
    );
}

#[test]
fn a_weight_shared_by_two_layers_gets_both_gradients() {
    let mut g = GraphBuilder::new(17);
    let x = g.input("x", Elem::Float, &["batch".into(), DimSpec::Fixed(4)]);
    let w0 = g.initializer("w0", &Host::f32(&[4, 4], uniform(16, 1, 0.6)));
    let b0 = g.initializer("b0", &Host::f32(&[4], uniform(4, 2, 0.2)));
    let w1 = g.initializer("w1", &Host::f32(&[3, 4], uniform(12, 3, 0.6)));
    let h = g.node("Gemm", &[&x, &w0, &b0], vec![attr_int("transB", 1)]);
    let h = g.node("Tanh", &[&h], vec![]);
    let h = g.node("Gemm", &[&h, &w0, &b0], vec![attr_int("transB", 1)]);
    let h = g.node("Tanh", &[&h], vec![]);
    let h = g.node("Gemm", &[&h, &w1], vec![attr_int("transB", 1)]);
    g.output(&h, Elem::Float, &["batch".into(), DimSpec::Fixed(3)]);
    let fast = load(&g.to_bytes(), &OnnxOptions::default());
    let slow = fast.clone().interpreted();
    assert_eq!(fast.layout().len(), 16 + 4 + 12);
    let theta = uniform(fast.layout().len(), 4, 0.6);
    same_function(&fast, &slow, &theta, &data(40, 4, 3, 5), true);
}

#[test]
fn graphs_that_are_not_plain_dense_chains_stay_with_the_interpreter() {
    let chain = |tail: &dyn Fn(&mut GraphBuilder, &str) -> String| {
        let mut g = GraphBuilder::new(17);
        let x = g.input("x", Elem::Float, &["batch".into(), DimSpec::Fixed(4)]);
        let w0 = g.initializer("w0", &Host::f32(&[3, 4], uniform(12, 1, 0.5)));
        let h = g.node("Gemm", &[&x, &w0], vec![attr_int("transB", 1)]);
        let h = tail(&mut g, &h);
        g.output(&h, Elem::Float, &["batch".into(), DimSpec::Fixed(3)]);
        g.to_bytes()
    };
    let dense = |g: &mut GraphBuilder, h: &str, attrs| {
        let w = g.initializer(&format!("w_{h}"), &Host::f32(&[3, 3], uniform(9, 2, 0.5)));
        g.node("Gemm", &[h, &w], attrs)
    };
    let cases: Vec<(&str, Vec<u8>)> = vec![
        (
            "a softmax after the last layer",
            chain(&|g, h| g.node("Softmax", &[h], vec![attr_int("axis", 1)])),
        ),
        (
            "two different activations",
            chain(&|g, h| {
                let h = g.node("Relu", &[h], vec![]);
                let h = dense(g, &h, vec![]);
                let h = g.node("Tanh", &[&h], vec![]);
                dense(g, &h, vec![])
            }),
        ),
        (
            "a scaled Gemm",
            chain(&|g, h| {
                let h = g.node("Relu", &[h], vec![]);
                dense(g, &h, vec![attr_float("alpha", 2.0)])
            }),
        ),
        (
            "a residual connection",
            chain(&|g, h| {
                let r = g.node("Relu", &[h], vec![]);
                let r = dense(g, &r, vec![]);
                g.node("Add", &[&r, h], vec![])
            }),
        ),
        (
            "two dense layers with no activation between",
            chain(&|g, h| dense(g, h, vec![])),
        ),
    ];
    let d = data(20, 4, 3, 3);
    for (what, bytes) in cases {
        let net = load(&bytes, &OnnxOptions::default());
        assert!(!net.runs_natively(), "{what}: lowered to the native engine");
        let theta = uniform(net.layout().len(), 4, 0.5);
        let e = net.evaluate(&[&theta], &d)[0];
        assert!(e.loss.is_finite(), "{what}: loss {}", e.loss);
    }

    // The plain chain these cases start from does run natively.
    let plain = chain(&|g, h| {
        let h = g.node("Relu", &[h], vec![]);
        dense(g, &h, vec![])
    });
    assert!(load(&plain, &OnnxOptions::default()).runs_natively());
}

/// A small CNN of the `--model cnn` shape on 2-channel 9x7 images (odd sides: the poolings
/// drop the last row and column), 3 and 4 filters, 6 hidden units, 3 classes.
fn small_cnn() -> ConvSpec {
    ConvSpec {
        arch: Arch::Cnn {
            channels: [3, 4],
            hidden: 6,
        },
        input: [2, 9, 7],
        num_classes: 3,
    }
}

#[test]
fn the_exported_small_cnn_runs_on_the_conv_engine_and_matches_the_interpreter() {
    let spec = small_cnn();
    let engine = CpuCnn::new(spec.clone()).unwrap();
    let theta = uniform(engine.layout().len(), 1, 0.3);
    let fast = load(
        &export_conv(&spec, &theta).unwrap(),
        &OnnxOptions::default(),
    );
    assert_eq!(fast.native_engine(), Some("cnn"));
    let slow = fast.clone().interpreted();
    assert_eq!(slow.native_engine(), None);
    let d = data(40, 2 * 9 * 7, 3, 2);
    same_function(&fast, &slow, &theta, &d, false);

    // The file's parameters are the engine's own vector: the same bits as the engine alone.
    assert_eq!(fast.layout().len(), engine.layout().len());
    let n = d.len();
    assert_eq!(
        fast.logits(&theta, d.features(), n),
        engine.logits(&theta, d.features(), n)
    );
    let batch = Batch {
        data: &d,
        coef: &vec![1.0 / n as f32; n],
        reverse: &vec![false; n],
    };
    let (mut g1, mut g2) = (vec![0f32; theta.len()], vec![0f32; theta.len()]);
    assert_eq!(
        fast.loss_grad(&theta, &batch, &mut g1),
        engine.loss_grad(&theta, &batch, &mut g2)
    );
    assert_eq!(g1, g2);
}

/// How the small CNN's graph may differ from genviz's own export and still be recognised.
#[derive(Clone, Copy, Default)]
struct CnnVariant {
    /// The first convolution padded by `auto_pad = SAME_UPPER` rather than `pads`.
    same_upper: bool,
    /// Each pooling before its ReLU (`relu(max_pool(conv(x)))`, the classic MNIST code).
    pool_first: bool,
    /// The features flattened by a `Reshape` to `[-1, features]` rather than `Flatten`.
    reshape: bool,
    /// That `Reshape`'s shape from a `Constant` node (PyTorch's legacy exporter) rather than
    /// an initializer.
    constant_node: bool,
    /// The dense layers as `Gemm` without `transB` (weights `[in, out]`) and `MatMul` + `Add`.
    transposed: bool,
    /// The second convolution without a bias.
    no_bias: bool,
}

/// The small CNN written by hand as `variant`, on 1-channel 8x8 images, with its parameters
/// declared in a shuffled order; the values in the file's order.
fn cnn_graph(
    v: CnnVariant,
    tail: &dyn Fn(&mut GraphBuilder, &str) -> String,
) -> (Vec<u8>, Vec<f32>) {
    cnn_graph_of_side(8, v, tail)
}

/// [`cnn_graph`] on images of `side x side`.
fn cnn_graph_of_side(
    side: usize,
    v: CnnVariant,
    tail: &dyn Fn(&mut GraphBuilder, &str) -> String,
) -> (Vec<u8>, Vec<f32>) {
    let mut g = GraphBuilder::new(17);
    let x = image_input(&mut g, [1, side, side]);
    let mut values = Vec::new();
    let mut init = |g: &mut GraphBuilder, name: &str, shape: &[usize], seed: u64| {
        let v = uniform(shape.iter().product(), seed, 0.4);
        values.extend(&v);
        g.initializer(name, &Host::f32(shape, v))
    };
    let (c1, c2, hidden, classes) = (3, 2, 5, 4);
    let features = c2 * (side / 4) * (side / 4);
    let fc2_w = if v.transposed {
        init(&mut g, "head.weight_t", &[hidden, classes], 1)
    } else {
        init(&mut g, "head.weight", &[classes, hidden], 1)
    };
    let fc2_b = init(&mut g, "head.bias", &[classes], 2);
    let conv2_w = init(&mut g, "features.3.weight", &[c2, c1, 5, 5], 3);
    let conv1_w = init(&mut g, "features.0.weight", &[c1, 1, 5, 5], 4);
    let conv1_b = init(&mut g, "features.0.bias", &[c1], 5);
    let conv2_b = (!v.no_bias).then(|| init(&mut g, "features.3.bias", &[c2], 6));
    let fc1_w = if v.transposed {
        init(&mut g, "hidden.weight_t", &[features, hidden], 7)
    } else {
        init(&mut g, "hidden.weight", &[hidden, features], 7)
    };
    let fc1_b = init(&mut g, "hidden.bias", &[hidden], 8);

    let conv = |g: &mut GraphBuilder, h: &str, w: &str, b: Option<&str>, same: bool| {
        let mut inputs = vec![h, w];
        inputs.extend(b);
        let mut attrs = vec![attr_ints("kernel_shape", &[5, 5])];
        attrs.push(if same {
            attr_str("auto_pad", "SAME_UPPER")
        } else {
            attr_ints("pads", &[2, 2, 2, 2])
        });
        g.node("Conv", &inputs, attrs)
    };
    let relu_pool = |g: &mut GraphBuilder, h: &str| {
        let pool = |g: &mut GraphBuilder, h: &str| {
            let attrs = vec![
                attr_ints("kernel_shape", &[2, 2]),
                attr_ints("strides", &[2, 2]),
            ];
            g.node("MaxPool", &[h], attrs)
        };
        if v.pool_first {
            let h = pool(g, h);
            g.node("Relu", &[&h], vec![])
        } else {
            let h = g.node("Relu", &[h], vec![]);
            pool(g, &h)
        }
    };
    let h = conv(&mut g, &x, &conv1_w, Some(&conv1_b), v.same_upper);
    let h = relu_pool(&mut g, &h);
    let h = g.node("Identity", &[&h], vec![]);
    let h = conv(&mut g, &h, &conv2_w, conv2_b.as_deref(), false);
    let h = relu_pool(&mut g, &h);
    let h = if v.reshape {
        let target = Host::i64(&[2], vec![-1, features as i64]);
        let shape = if v.constant_node {
            g.node("Constant", &[], vec![attr_tensor("value", &target)])
        } else {
            g.initializer("flat_shape", &target)
        };
        g.node("Reshape", &[&h, &shape], vec![])
    } else {
        g.node("Flatten", &[&h], vec![attr_int("axis", 1)])
    };
    let out = if v.transposed {
        let h = g.node("Gemm", &[&h, &fc1_w, &fc1_b], vec![]);
        let h = g.node("Relu", &[&h], vec![]);
        let h = g.node("MatMul", &[&h, &fc2_w], vec![]);
        g.node("Add", &[&h, &fc2_b], vec![])
    } else {
        let t = vec![attr_int("transB", 1)];
        let h = g.node("Gemm", &[&h, &fc1_w, &fc1_b], t.clone());
        let h = g.node("Relu", &[&h], vec![]);
        g.node("Gemm", &[&h, &fc2_w, &fc2_b], t)
    };
    let out = tail(&mut g, &out);
    g.output(
        &out,
        Elem::Float,
        &["batch".into(), DimSpec::Fixed(classes)],
    );
    (g.to_bytes(), values)
}

#[test]
fn small_cnns_written_the_ways_exporters_write_them_run_on_the_conv_engine() {
    let d = data(30, 64, 4, 9);
    let variants = [
        CnnVariant::default(),
        CnnVariant {
            same_upper: true,
            pool_first: true,
            reshape: true,
            transposed: true,
            no_bias: true,
            ..Default::default()
        },
        CnnVariant {
            pool_first: true,
            transposed: true,
            reshape: true,
            constant_node: true,
            ..Default::default()
        },
    ];
    for v in variants {
        let (bytes, theta) = cnn_graph(v, &|_, h| h.to_string());
        let fast = load(&bytes, &OnnxOptions::default());
        assert_eq!(fast.native_engine(), Some("cnn"));
        let slow = fast.clone().interpreted();
        same_function(&fast, &slow, &theta, &d, false);
    }

    // Some initializers frozen by a pattern: constants of the native network.
    let options = OnnxOptions {
        params: Some("features.3|head".into()),
        ..Default::default()
    };
    let (bytes, _) = cnn_graph(CnnVariant::default(), &|_, h| h.to_string());
    let fast = load(&bytes, &options);
    assert_eq!(fast.native_engine(), Some("cnn"));
    assert_eq!(fast.layout().len(), 2 * 3 * 25 + 2 + 4 * 5 + 4);
    let slow = fast.clone().interpreted();
    let theta = uniform(fast.layout().len(), 8, 0.4);
    same_function(&fast, &slow, &theta, &d, false);
}

#[test]
fn conv_graphs_the_engine_does_not_compute_stay_with_the_interpreter() {
    let cases: Vec<(&str, Vec<u8>)> = vec![
        (
            "a softmax after the last layer",
            cnn_graph(CnnVariant::default(), &|g, h| {
                g.node("Softmax", &[h], vec![attr_int("axis", 1)])
            })
            .0,
        ),
        (
            "a bias added after the last layer",
            cnn_graph(CnnVariant::default(), &|g, h| {
                let b = g.initializer("extra", &Host::f32(&[4], vec![0.1; 4]));
                g.node("Add", &[h, &b], vec![])
            })
            .0,
        ),
    ];
    // The same graph with one node changed (shapes kept, so the file stays valid).
    type Edit = dyn Fn(&mut genviz_onnx::proto::NodeProto);
    let edited_of_side = |side: usize, op: &str, k: usize, edit: &Edit| {
        let (bytes, _) = cnn_graph_of_side(side, CnnVariant::default(), &|_, h| h.to_string());
        let mut model: genviz_onnx::proto::ModelProto =
            prost::Message::decode(bytes.as_slice()).unwrap();
        let graph = model.graph.as_mut().unwrap();
        let node = graph
            .node
            .iter_mut()
            .filter(|n| n.op_type == op)
            .nth(k)
            .unwrap();
        edit(node);
        prost::Message::encode_to_vec(&model)
    };
    let edited = |op: &str, k: usize, edit: &Edit| edited_of_side(8, op, k, edit);
    let mut cases = cases;
    cases.extend([
        (
            "a dilated convolution",
            edited("Conv", 1, &|n| {
                n.attribute = vec![
                    attr_str("auto_pad", "SAME_UPPER"),
                    attr_ints("dilations", &[2, 2]),
                ]
            }),
        ),
        (
            "asymmetric padding",
            edited("Conv", 0, &|n| {
                n.attribute = vec![attr_ints("pads", &[1, 1, 3, 3])]
            }),
        ),
        (
            "overlapping pooling windows",
            edited("MaxPool", 0, &|n| {
                n.attribute = vec![
                    attr_ints("kernel_shape", &[3, 3]),
                    attr_ints("strides", &[2, 2]),
                    attr_int("ceil_mode", 1),
                ]
            }),
        ),
        (
            "a padded pooling",
            edited("MaxPool", 1, &|n| {
                n.attribute = vec![
                    attr_ints("kernel_shape", &[2, 2]),
                    attr_ints("strides", &[2, 2]),
                    attr_ints("pads", &[0, 0, 1, 1]),
                ]
            }),
        ),
        (
            "a dilated pooling",
            edited("MaxPool", 1, &|n| {
                n.attribute = vec![
                    attr_ints("kernel_shape", &[2, 2]),
                    attr_ints("strides", &[2, 2]),
                    attr_ints("dilations", &[2, 2]),
                    attr_int("ceil_mode", 1),
                ]
            }),
        ),
        (
            // On 4x4 images a stride of 1 (ONNX's default) gives 3x3 planes, which the
            // second pooling takes to 1x1 just as a stride of 2 would: the shapes cannot tell.
            "a pooling with the default stride",
            edited_of_side(4, "MaxPool", 0, &|n| {
                n.attribute = vec![attr_ints("kernel_shape", &[2, 2])]
            }),
        ),
        (
            "an average pooling",
            edited("MaxPool", 0, &|n| n.op_type = "AveragePool".into()),
        ),
        (
            "a Tanh for a ReLU",
            edited("Relu", 1, &|n| n.op_type = "Tanh".into()),
        ),
    ]);
    for (what, bytes) in cases {
        let net = load(&bytes, &OnnxOptions::default());
        assert!(!net.runs_natively(), "{what}: lowered to the native engine");
        let theta = uniform(net.layout().len(), 4, 0.4);
        let d = data(12, net.model().example_shape().iter().product(), 4, 3);
        let e = net.evaluate(&[&theta], &d)[0];
        assert!(e.loss.is_finite(), "{what}: loss {}", e.loss);
    }

    // A reshape to a constant batch of 2 (the batch the model is probed with at load, so the
    // file loads): right for that batch only, so not the engine's function.
    let (bytes, _) = cnn_graph(
        CnnVariant {
            reshape: true,
            ..Default::default()
        },
        &|_, h| h.to_string(),
    );
    let mut model: genviz_onnx::proto::ModelProto =
        prost::Message::decode(bytes.as_slice()).unwrap();
    let graph = model.graph.as_mut().unwrap();
    let target = graph
        .initializer
        .iter_mut()
        .find(|t| t.name == "flat_shape")
        .unwrap();
    let features = [-1, 8];
    assert!(target.int64_data == features || !target.raw_data.is_empty());
    target.int64_data.clear();
    target.raw_data = [2i64, 8].iter().flat_map(|v| v.to_le_bytes()).collect();
    let net = load(
        &prost::Message::encode_to_vec(&model),
        &OnnxOptions::default(),
    );
    assert!(
        !net.runs_natively(),
        "a reshape to [2, 8]: lowered to the native engine"
    );

    // The graphs these cases edit do run natively.
    for side in [4, 8] {
        let (bytes, _) = cnn_graph_of_side(side, CnnVariant::default(), &|_, h| h.to_string());
        let net = load(&bytes, &OnnxOptions::default());
        assert_eq!(net.native_engine(), Some("cnn"), "{side}x{side}");
    }
}
