//! Summaries of timing samples.

use serde_json::{Value, json};

/// The `q`-quantile (0..=1) of sorted `samples`, nearest rank; 0 when empty.
pub fn quantile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = (q.clamp(0.0, 1.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// Sorts `samples` and summarises them as JSON: count, min, p50, p90, p99,
/// max and mean, in the samples' unit.
pub fn summary(samples: &mut [f64]) -> Value {
    samples.sort_by(f64::total_cmp);
    let mean = if samples.is_empty() {
        0.0
    } else {
        samples.iter().sum::<f64>() / samples.len() as f64
    };
    json!({
        "count": samples.len(),
        "min": samples.first().copied().unwrap_or(0.0),
        "p50": quantile(samples, 0.50),
        "p90": quantile(samples, 0.90),
        "p99": quantile(samples, 0.99),
        "max": samples.last().copied().unwrap_or(0.0),
        "mean": mean,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_quantiles() {
        let mut samples: Vec<f64> = (1..=100).rev().map(f64::from).collect();
        let s = summary(&mut samples);
        assert_eq!(s["min"], 1.0);
        assert_eq!(s["p50"], 50.0);
        assert_eq!(s["p99"], 99.0);
        assert_eq!(s["max"], 100.0);
        assert_eq!(s["mean"], 50.5);
        assert_eq!(quantile(&[], 0.5), 0.0);
        assert_eq!(quantile(&[7.0], 0.99), 7.0);
    }
}
