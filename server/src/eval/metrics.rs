//! Ranking metrics as BEIR reports them (linear gains, as trec_eval does).

use std::collections::HashMap;

/// nDCG@k of `ranked` document ids against graded judgments.
pub fn ndcg_at(ranked: &[String], judged: &HashMap<String, i32>, k: usize) -> f64 {
    let dcg: f64 = ranked
        .iter()
        .take(k)
        .enumerate()
        .map(|(i, id)| {
            f64::from(judged.get(id).copied().unwrap_or(0).max(0)) / (i as f64 + 2.0).log2()
        })
        .sum();
    let mut ideal: Vec<i32> = judged.values().copied().filter(|g| *g > 0).collect();
    ideal.sort_unstable_by(|a, b| b.cmp(a));
    let idcg: f64 = ideal
        .iter()
        .take(k)
        .enumerate()
        .map(|(i, g)| f64::from(*g) / (i as f64 + 2.0).log2())
        .sum();
    if idcg == 0.0 { 0.0 } else { dcg / idcg }
}

/// Share of the relevant documents found in the top `k`.
pub fn recall_at(ranked: &[String], judged: &HashMap<String, i32>, k: usize) -> f64 {
    let relevant = judged.values().filter(|g| **g > 0).count();
    if relevant == 0 {
        return 0.0;
    }
    let found = ranked
        .iter()
        .take(k)
        .filter(|id| judged.get(*id).is_some_and(|g| *g > 0))
        .count();
    found as f64 / relevant as f64
}

/// Reciprocal rank of the first relevant document within the top `k`.
pub fn mrr_at(ranked: &[String], judged: &HashMap<String, i32>, k: usize) -> f64 {
    ranked
        .iter()
        .take(k)
        .position(|id| judged.get(id).is_some_and(|g| *g > 0))
        .map_or(0.0, |i| 1.0 / (i as f64 + 1.0))
}

/// The value at quantile `q` (0–1) of `values`, which it sorts.
pub fn percentile(values: &mut [f64], q: f64) -> f64 {
    if values.is_empty() {
        return 0.0;
    }
    values.sort_by(f64::total_cmp);
    let index = ((values.len() as f64 - 1.0) * q).round() as usize;
    values[index.min(values.len() - 1)]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn judged(pairs: &[(&str, i32)]) -> HashMap<String, i32> {
        pairs.iter().map(|(id, g)| ((*id).to_owned(), *g)).collect()
    }

    fn ranked(ids: &[&str]) -> Vec<String> {
        ids.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn perfect_and_empty_rankings() {
        let j = judged(&[("a", 2), ("b", 1)]);
        assert!((ndcg_at(&ranked(&["a", "b"]), &j, 10) - 1.0).abs() < 1e-12);
        assert_eq!(ndcg_at(&ranked(&["x", "y"]), &j, 10), 0.0);
        assert_eq!(recall_at(&ranked(&["b", "x"]), &j, 10), 0.5);
        assert_eq!(mrr_at(&ranked(&["x", "b"]), &j, 10), 0.5);
    }

    #[test]
    fn ndcg_discounts_late_hits() {
        let j = judged(&[("a", 1)]);
        let late = ndcg_at(&ranked(&["x", "a"]), &j, 10);
        assert!((late - 1.0 / 3f64.log2()).abs() < 1e-12);
        assert_eq!(ndcg_at(&ranked(&["x", "a"]), &j, 1), 0.0);
    }

    #[test]
    fn percentiles_pick_from_sorted_values() {
        let mut v = vec![5.0, 1.0, 3.0, 2.0, 4.0];
        assert_eq!(percentile(&mut v, 0.5), 3.0);
        assert_eq!(percentile(&mut v, 1.0), 5.0);
        assert_eq!(percentile(&mut [], 0.5), 0.0);
    }
}
