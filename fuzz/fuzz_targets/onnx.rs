//! An `.onnx` file: the loader (protobuf, graph checks, the load-time forward pass on a blank
//! batch), then logits and a gradient on two examples when it loads.
#![no_main]
use genviz_core::{Batch, Dataset};
use genviz_onnx::{CpuBackend, OnnxModel, OnnxNet, OnnxOptions};
use libfuzzer_sys::fuzz_target;
use std::path::Path;
use std::sync::Arc;

fuzz_target!(|data: &[u8]| {
    // A small tensor limit keeps every run fast and within libFuzzer's memory limit.
    let options = OnnxOptions {
        max_elements: 1 << 16,
        eval_batch: 2,
        ..Default::default()
    };
    let Ok(model) = OnnxModel::from_bytes(data, Path::new("fuzz.onnx"), &options) else {
        return;
    };
    let theta = model.params().into_values();
    let count: usize = model.example_shape().iter().product();
    if count > 1 << 12 {
        return;
    }
    let net: OnnxNet<CpuBackend> = OnnxNet::new(Arc::new(model), Default::default());
    let _ = net.try_logits(&theta, &vec![0.5; 3 * count], 3);
    let classes = net.model().num_classes();
    if let Ok(rows) = Dataset::new(vec![0.0; 2 * count], vec![0, (classes as u32).min(1)], count, classes.max(2)) {
        let coef = [0.5f32; 2];
        let reverse = [false, true];
        let batch = Batch { data: &rows, coef: &coef, reverse: &reverse };
        let mut grad = vec![0f32; theta.len()];
        let _ = net.try_loss_grad(&theta, &batch, &mut grad);
    }
});
