//! What the integration tests of genviz-experiments share.

use genviz_experiments::paper::{Figure, PaperConfig, Scale};

/// `figures` at the quick scale cut to seconds: both swiss-roll nets trained 600 steps,
/// 5 x 5 landscapes and 6 basin rays. Enough for every file and check to appear, not for
/// the paper's numbers.
pub fn small_paper(figures: Vec<Figure>) -> PaperConfig {
    let mut scale = Scale::quick();
    scale.clean_steps = 600;
    scale.poisoned_steps = 600;
    scale.basin_rays = 6;
    scale.landscape_points = 5;
    PaperConfig { figures, scale }
}
