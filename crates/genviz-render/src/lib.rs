//! genviz-render
