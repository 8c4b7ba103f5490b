//! A CSV/TSV data file under the option combinations a user can choose; the first byte picks them.
#![no_main]
use genviz_data::{CsvOptions, LabelColumn};
use libfuzzer_sys::fuzz_target;
use std::path::Path;

fuzz_target!(|data: &[u8]| {
    let Some((&pick, text)) = data.split_first() else {
        return;
    };
    let options = CsvOptions {
        label_column: match pick & 3 {
            0 => LabelColumn::Last,
            1 => LabelColumn::First,
            2 => LabelColumn::Index(usize::from(pick >> 4)),
            _ => LabelColumn::Name("label".into()),
        },
        has_header: match (pick >> 2) & 3 {
            0 => None,
            1 => Some(true),
            _ => Some(false),
        },
        num_classes: (pick & 0x40 != 0).then_some(usize::from(pick >> 4)),
        delimiter: if pick & 0x80 != 0 { b'\t' } else { b',' },
    };
    let _ = genviz_data::read_csv_from(text, Path::new("fuzz.csv"), &options);
});
