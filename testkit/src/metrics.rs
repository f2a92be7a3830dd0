//! Checking a `/metrics` scrape against the metric names a binary documents: the names are
//! read from the `pub const NAME: &str = "...";` lines of its `metrics.rs` files themselves, so
//! a newly documented metric is checked without anyone remembering to list it.

/// The names every binary serves through `platform`: HTTP durations and the pool gauges.
pub fn platform_documented() -> Vec<String> {
    let mut names = documented(include_str!("../../platform/src/http_metrics.rs"));
    names.extend(documented(include_str!(
        "../../platform/src/pool_metrics.rs"
    )));
    names
}

/// Every metric name declared as a `pub const ...: &str = "...";` in `source`.
pub fn documented(source: &str) -> Vec<String> {
    source
        .lines()
        .filter_map(|line| {
            let declaration = line.trim().strip_prefix("pub const ")?;
            let (_, value) = declaration.split_once(": &str = \"")?;
            let (name, _) = value.split_once('"')?;
            Some(name.to_owned())
        })
        .collect()
}

/// The names in `expected` that no sample of the Prometheus text `scrape` belongs to (a
/// histogram's samples are `<name>_bucket`, `<name>_sum` and `<name>_count`).
pub fn missing(scrape: &str, expected: &[String]) -> Vec<String> {
    expected
        .iter()
        .filter(|name| {
            !scrape
                .lines()
                .filter(|line| !line.starts_with('#'))
                .any(|line| is_sample_of(line, name))
        })
        .cloned()
        .collect()
}

fn is_sample_of(line: &str, name: &str) -> bool {
    let Some(rest) = line.strip_prefix(name) else {
        return false;
    };
    let rest = ["_bucket", "_sum", "_count"]
        .iter()
        .find_map(|suffix| rest.strip_prefix(suffix))
        .unwrap_or(rest);
    rest.starts_with('{') || rest.starts_with(' ')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documented_names_come_from_the_string_constants_only() {
        let source = "/// Events.\npub const EVENTS: &str = \"events_total\";\n\
                      const PRIVATE: u32 = 3;\n    pub const LAG: &str = \"lag_seconds\";\n";
        assert_eq!(documented(source), ["events_total", "lag_seconds"]);
    }

    #[test]
    fn a_name_counts_only_when_a_sample_of_it_is_rendered() {
        let scrape = "# HELP absent_total described but never recorded\n\
                      events_total{topic=\"t\"} 3\n\
                      lag_seconds_bucket{le=\"0.5\"} 1\n\
                      lag_seconds_sum 0.2\n\
                      events_total_other 1\n";
        let expected: Vec<String> = ["events_total", "lag_seconds", "absent_total", "events"]
            .map(str::to_owned)
            .to_vec();
        assert_eq!(missing(scrape, &expected), ["absent_total", "events"]);
    }
}
