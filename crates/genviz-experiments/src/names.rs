//! How an error names a setting: as the configuration spells it (`wide_gap`, for a TOML or
//! `run.json` reader and the Python package), or as the command line does (`--wide-gap`).
//! A configuration's check takes a [`Names`], so the same check speaks each front end's
//! language.

/// Names settings in error messages.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Names {
    /// The configuration's field names: `wide_gap`.
    #[default]
    Fields,
    /// The command line's flags: `--wide-gap`.
    Flags,
}

impl Names {
    /// How `field` (a configuration field, snake_case) is spelled for this reader.
    pub fn of(self, field: &str) -> String {
        match self {
            Names::Fields => field.to_string(),
            Names::Flags => format!("--{}", field.replace('_', "-")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Names;

    #[test]
    fn fields_read_as_the_configuration_or_the_command_line_spells_them() {
        assert_eq!(Names::Fields.of("wide_gap"), "wide_gap");
        assert_eq!(Names::Flags.of("wide_gap"), "--wide-gap");
        assert_eq!(Names::Flags.of("steps"), "--steps");
    }
}
