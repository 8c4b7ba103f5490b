//! genviz-mlp
