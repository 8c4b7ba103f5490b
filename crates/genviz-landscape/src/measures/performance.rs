//! What the measures try to predict: train and test loss and accuracy, and the generalization
//! gap. Jiang et al. define the gap as test error minus train error, which is
//! `train accuracy - test accuracy`; genviz reports the loss gap beside it.

use super::{check_data, check_point, Counting, Measured, Outcome, Prediction};
use genviz_core::{Dataset, Network, Params, Result};

/// Train and test loss and accuracy on the whole data sets, `generalization_gap` (train
/// accuracy minus test accuracy) and `loss_gap` (test loss minus train loss).
pub fn performance(
    net: &dyn Network,
    theta: &Params,
    train: &Dataset,
    test: &Dataset,
) -> Result<Outcome> {
    check_point("performance", net, theta)?;
    check_data("performance (training set)", train)?;
    check_data("performance (test set)", test)?;
    let counting = Counting::new(net);
    let tr = counting.evaluate(&[theta.values()], train)[0];
    let te = counting.evaluate(&[theta.values()], test)[0];
    let nothing = Prediction::Nothing;
    Ok(Outcome {
        measures: vec![
            Measured::new("train_loss", tr.loss, nothing),
            Measured::new("train_accuracy", tr.accuracy, nothing),
            Measured::new("test_loss", te.loss, nothing),
            Measured::new("test_accuracy", te.accuracy, nothing),
            Measured::new("generalization_gap", tr.accuracy - te.accuracy, nothing),
            Measured::new("loss_gap", te.loss - tr.loss, nothing),
        ],
        cost: counting.cost(),
    })
}

/// The names [`performance`] returns, in order.
pub const NAMES: [&str; 6] = [
    "train_loss",
    "train_accuracy",
    "test_loss",
    "test_accuracy",
    "generalization_gap",
    "loss_gap",
];

#[cfg(test)]
mod tests {
    use super::*;
    use crate::measures::testnets::{points, Quadratic};

    #[test]
    fn gap_is_train_accuracy_minus_test_accuracy() {
        let net = Quadratic::new(vec![2.0]);
        let theta = net.params(vec![0.0]);
        // Losses x^2: train 0.25 and 0.0 (both correct), test 4.0 and 0.25 (one correct).
        let train = points(vec![0.5, 0.0], 1);
        let test = points(vec![2.0, 0.5], 1);
        let out = performance(&net, &theta, &train, &test).unwrap();
        let v: Vec<f64> = out.measures.iter().map(|m| m.value).collect();
        assert_eq!(v, vec![0.125, 1.0, 2.125, 0.5, 0.5, 2.0]);
        let names: Vec<&str> = out.measures.iter().map(|m| m.name.as_str()).collect();
        assert_eq!(names, NAMES);
        assert_eq!(out.cost.evaluations, 2);
        assert!(performance(&net, &theta, &train, &train.select(&[])).is_err());
    }
}
