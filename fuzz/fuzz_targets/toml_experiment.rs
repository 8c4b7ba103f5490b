//! An experiment file (TOML, or a run.json's JSON), validated as `genviz train --config` does,
//! and the `--data` strings (`csv:PATH`, `npz:PATH`, built-in names).
#![no_main]
use genviz_experiments::config;
use libfuzzer_sys::fuzz_target;
use std::path::Path;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let path = Path::new("fuzz.toml");
    for json in [false, true] {
        if let Ok(c) = config::parse_experiment(text, json, path) {
            let _ = c.train.validate();
            let _ = c.model.spec(2, 2).validate();
        }
    }
    let _ = config::DataConfig::builtin(text);
});
