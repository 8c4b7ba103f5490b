//! genviz-data
