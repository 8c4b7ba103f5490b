//! genviz-train
