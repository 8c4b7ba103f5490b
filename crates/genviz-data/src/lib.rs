//! The data sets genviz trains on and draws: the paper's toy problems and a user's own data.
//!
//! Huang et al.'s figures rest on small, exactly specified 2-D problems: the swiss roll of
//! Figs 3/5/6 (whose poison set D_p is fresh swiss-roll points with wrong labels), the
//! noise-free "minefield" spiral of Fig 1 split into train, flipped-label "untraining" and test
//! points, and the thin-margin concentric circles of Fig 8. This crate reproduces those
//! generators from the formulas in SPEC §1.1, §1.3, §1.8 and §1.9, adds the classic moons and
//! blobs for experimentation, and provides the seeded shuffles and splits the experiments use,
//! so that the same seed always gives the same points. It also reads a user's own data (CSV,
//! `.npy` pairs, or the `x_<split>`/`y_<split>` arrays of an `.npz`) into a
//! [`genviz_core::Dataset`], rejecting malformed input with an error that names the file, the
//! line or array, the column and what was expected, rather than panicking or training on garbage.

pub mod generators;
pub mod images;
pub mod split;
pub mod tabular;

pub use generators::{
    flip_labels, Blobs, Minefield, MinefieldData, Moons, SharpCircles, SwissRoll,
};
pub use images::{
    poly_feature_count, Augment, ChannelStats, ImageData, ImageShape, ImageSource, PolyFeatures,
    DEFAULT_POLY_SIDE,
};
pub use split::{shuffle, train_test_split};
pub use tabular::{
    parse_npy_pair, parse_npz_examples, parse_npz_split, read_csv, read_csv_from, read_npy,
    read_npz_examples, read_npz_split, CsvOptions, LabelColumn, ShapedDataset, MAX_EXACT_INTEGER,
};
