//! Reads a quantile out of a Prometheus histogram scraped from a service's `/metrics`.

/// The upper bound of the bucket holding quantile `q` of histogram `name`, summed over labels.
pub fn quantile(text: &str, name: &str, q: f64) -> Option<f64> {
    let prefix = format!("{name}_bucket{{");
    let mut buckets: Vec<(f64, f64)> = Vec::new();
    for line in text.lines().filter(|l| l.starts_with(&prefix)) {
        let le = line.split("le=\"").nth(1)?.split('"').next()?;
        let bound = if le == "+Inf" {
            f64::INFINITY
        } else {
            le.parse().ok()?
        };
        let count: f64 = line.split_whitespace().last()?.parse().ok()?;
        match buckets.iter_mut().find(|(b, _)| *b == bound) {
            Some(entry) => entry.1 += count,
            None => buckets.push((bound, count)),
        }
    }
    buckets.sort_by(|a, b| a.0.total_cmp(&b.0));
    let total = buckets.last()?.1;
    if total == 0.0 {
        return None;
    }
    buckets
        .iter()
        .find(|(_, count)| *count >= q * total)
        .map(|(bound, _)| *bound)
}

#[cfg(test)]
mod tests {
    use super::quantile;

    #[test]
    fn quantile_finds_the_bucket_holding_the_rank() {
        let text = "x_bucket{le=\"0.01\"} 50\nx_bucket{le=\"0.1\"} 99\nx_bucket{le=\"1\"} 100\nx_bucket{le=\"+Inf\"} 100\n";
        assert_eq!(quantile(text, "x", 0.5), Some(0.01));
        assert_eq!(quantile(text, "x", 0.99), Some(0.1));
        assert_eq!(quantile(text, "x", 1.0), Some(1.0));
        assert_eq!(quantile("", "x", 0.5), None);
    }
}
