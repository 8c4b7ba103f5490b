//! Checks shared by every chart that takes coordinates.

/// An axis of a grid or a chart: at least 2 finite coordinates, strictly increasing. The error
/// names the axis (`name`, e.g. `"xs"`) and the first offending entry; callers prefix the file
/// and panel.
pub(crate) fn check_axis(name: &str, axis: &[f64]) -> Result<(), String> {
    if axis.len() < 2 {
        return Err(format!(
            "{name} needs at least 2 coordinates, got {}",
            axis.len()
        ));
    }
    if let Some(k) = axis.iter().position(|v| !v.is_finite()) {
        return Err(format!("{name}[{k}] = {} is not finite", axis[k]));
    }
    if let Some(k) = (1..axis.len()).find(|&k| axis[k] <= axis[k - 1]) {
        return Err(format!(
            "{name} must be strictly increasing, but {name}[{k}] = {} follows {}",
            axis[k],
            axis[k - 1]
        ));
    }
    Ok(())
}
