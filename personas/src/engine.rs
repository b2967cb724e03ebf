//! The few-shot scoring engine, independent of personas: given labelled
//! exemplars (text + sentence embedding) it scores a query against every label
//! by three kinds of evidence, combines them, and turns the result into
//! calibrated probabilities. The executive classifier and the CLINC150
//! benchmark both run on it.
//!
//! Evidence per label: cosine to the label's centroid (robust to one odd
//! exemplar), the mean cosine of the `neighbours` nearest exemplars (keeps a
//! specific phrasing that the centroid averages away), and TF-IDF cosine to the
//! label's lexical profile. Extra exemplars (a tenant's) join their label's
//! centroid, neighbours and profile for one call only.

use crate::lexical::{LexicalIndex, SparseVector, add_into};

/// How the evidence is weighed and calibrated. The defaults are close to what
/// CLINC150 held-out tuning picks (lexical weight 0.3, temperature about 0.03);
/// the neighbour weight is kept above its tuned zero so that a tenant's exact
/// phrasing, one exemplar among many, still decides.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ScoringConfig {
    /// Weight of the nearest-exemplar similarity (the centroid's weight is 1).
    pub neighbour_weight: f32,
    /// Weight of the lexical similarity.
    pub lexical_weight: f32,
    /// How many nearest exemplars of a label are averaged.
    pub neighbours: usize,
    /// Softmax temperature turning combined scores into probabilities.
    pub temperature: f32,
    /// A best combined score below this means "none of these labels".
    pub reject_below: f32,
}

impl Default for ScoringConfig {
    fn default() -> Self {
        ScoringConfig {
            neighbour_weight: 0.25,
            lexical_weight: 0.3,
            neighbours: 2,
            temperature: 0.03,
            reject_below: 0.28,
        }
    }
}

/// One exemplar ready for scoring: its label, embedding and lexical vector.
#[derive(Debug, Clone)]
pub struct IndexedExemplar {
    label: usize,
    embedding: Vec<f32>,
    lexical: SparseVector,
}

impl IndexedExemplar {
    /// The label this exemplar teaches.
    pub fn label(&self) -> usize {
        self.label
    }
}

/// The three kinds of evidence for every label, before weighing.
#[derive(Debug, Clone, PartialEq)]
pub struct Evidence {
    /// Cosine to each label's centroid.
    pub centroid: Vec<f32>,
    /// Mean cosine to each label's nearest exemplars (-1 for a label without any).
    pub neighbour: Vec<f32>,
    /// TF-IDF cosine to each label's lexical profile.
    pub lexical: Vec<f32>,
}

impl Evidence {
    /// Weighted combination, scaled back to the range of a cosine.
    pub fn combine(&self, config: &ScoringConfig) -> Vec<f32> {
        let total = 1.0 + config.neighbour_weight + config.lexical_weight;
        (0..self.centroid.len())
            .map(|i| {
                (self.centroid[i]
                    + config.neighbour_weight * self.neighbour[i]
                    + config.lexical_weight * self.lexical[i])
                    / total
            })
            .collect()
    }
}

/// A fixed set of labelled exemplars, indexed for scoring queries.
#[derive(Debug, Clone)]
pub struct FewShotIndex {
    label_count: usize,
    exemplars: Vec<IndexedExemplar>,
    /// Per label: sum of exemplar embeddings and its length.
    centroid_sums: Vec<Vec<f32>>,
    centroid_norms: Vec<f32>,
    lexical: LexicalIndex,
}

impl FewShotIndex {
    /// Indexes `(label, text, embedding)` triples; labels are `0..label_count`
    /// and embeddings unit length, all of one dimension.
    pub fn new(label_count: usize, exemplars: Vec<(usize, String, Vec<f32>)>) -> FewShotIndex {
        let texts: Vec<(usize, &str)> =
            exemplars.iter().map(|(l, t, _)| (*l, t.as_str())).collect();
        let lexical = LexicalIndex::new(label_count, &texts);
        let dimension = exemplars.first().map_or(0, |(_, _, e)| e.len());
        let mut centroid_sums = vec![vec![0.0; dimension]; label_count];
        let exemplars: Vec<IndexedExemplar> = exemplars
            .into_iter()
            .filter(|(label, _, _)| *label < label_count)
            .map(|(label, text, embedding)| {
                add(&mut centroid_sums[label], &embedding);
                let lexical = lexical.vector(&text);
                IndexedExemplar {
                    label,
                    embedding,
                    lexical,
                }
            })
            .collect();
        let centroid_norms = centroid_sums.iter().map(|s| dot(s, s).sqrt()).collect();
        FewShotIndex {
            label_count,
            exemplars,
            centroid_sums,
            centroid_norms,
            lexical,
        }
    }

    /// Number of labels.
    pub fn label_count(&self) -> usize {
        self.label_count
    }

    /// Prepares an extra exemplar (e.g. a tenant's) to pass to [`Self::evidence`];
    /// `None` when the label is out of range.
    pub fn prepare(
        &self,
        label: usize,
        text: &str,
        embedding: Vec<f32>,
    ) -> Option<IndexedExemplar> {
        (label < self.label_count).then(|| IndexedExemplar {
            label,
            embedding,
            lexical: self.lexical.vector(text),
        })
    }

    /// Scores a query (its text and unit embedding) against every label, with
    /// `extra` exemplars joining their labels for this call only; the neighbour
    /// evidence averages the `neighbours` best exemplars of each label.
    pub fn evidence(
        &self,
        text: &str,
        embedding: &[f32],
        extra: &[IndexedExemplar],
        neighbours: usize,
    ) -> Evidence {
        let mut centroid_sums: Vec<Option<Vec<f32>>> = vec![None; self.label_count];
        let mut lexical_extra: Vec<Option<SparseVector>> = vec![None; self.label_count];
        for e in extra.iter().filter(|e| e.label < self.label_count) {
            let sum =
                centroid_sums[e.label].get_or_insert_with(|| self.centroid_sums[e.label].clone());
            add(sum, &e.embedding);
            add_into(
                lexical_extra[e.label].get_or_insert_with(Default::default),
                &e.lexical,
            );
        }
        // The query is unit length: a dot product over the centroid's length is its cosine.
        let centroid = (0..self.label_count)
            .map(|label| {
                let (sum, norm) = match &centroid_sums[label] {
                    Some(sum) => (sum, dot(sum, sum).sqrt()),
                    None => (&self.centroid_sums[label], self.centroid_norms[label]),
                };
                if sum.len() == embedding.len() && norm > 0.0 {
                    dot(embedding, sum) / norm
                } else {
                    0.0
                }
            })
            .collect();
        let k = neighbours.clamp(1, NEIGHBOURS_KEPT);
        let neighbour = self
            .nearest(embedding, extra, k)
            .into_iter()
            .map(|best| {
                if best.is_empty() {
                    -1.0
                } else {
                    best.iter().sum::<f32>() / best.len() as f32
                }
            })
            .collect();
        let lexical = self
            .lexical
            .scores(&self.lexical.vector(text), &lexical_extra);
        Evidence {
            centroid,
            neighbour,
            lexical,
        }
    }

    /// The `k` best similarities per label, best first.
    fn nearest(&self, embedding: &[f32], extra: &[IndexedExemplar], k: usize) -> Vec<Vec<f32>> {
        let mut best: Vec<Vec<f32>> = vec![Vec::with_capacity(k + 1); self.label_count];
        for e in self.exemplars.iter().chain(extra) {
            if e.label >= self.label_count || e.embedding.len() != embedding.len() {
                continue;
            }
            let similarity = dot(embedding, &e.embedding);
            let kept = &mut best[e.label];
            let at = kept
                .iter()
                .position(|s| similarity > *s)
                .unwrap_or(kept.len());
            if at < k {
                kept.insert(at, similarity);
                kept.truncate(k);
            }
        }
        best
    }
}

/// Most neighbours per label the engine will average.
pub const NEIGHBOURS_KEPT: usize = 5;

/// Probabilities from scores: softmax at `temperature` (numerically stable).
pub fn softmax(scores: &[f32], temperature: f32) -> Vec<f32> {
    let t = if temperature > 0.0 { temperature } else { 1.0 };
    let max = scores.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let exp: Vec<f32> = scores.iter().map(|s| ((s - max) / t).exp()).collect();
    let total: f32 = exp.iter().sum();
    if total > 0.0 && total.is_finite() {
        exp.iter().map(|e| e / total).collect()
    } else {
        vec![1.0 / scores.len().max(1) as f32; scores.len()]
    }
}

/// Indices of `values` from largest to smallest.
pub fn ranking(values: &[f32]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..values.len()).collect();
    order.sort_by(|a, b| values[*b].total_cmp(&values[*a]));
    order
}

fn add(sum: &mut [f32], v: &[f32]) {
    sum.iter_mut().zip(v).for_each(|(s, x)| *s += x);
}

/// Dot product of two vectors of the same length, summed in independent
/// lanes: one running sum is a single chain of additions the compiler may not
/// reorder, so it could neither vectorise it nor overlap them. Comparing a
/// query with every exemplar is most of the scoring time.
fn dot(a: &[f32], b: &[f32]) -> f32 {
    const LANES: usize = 16;
    let (a_lanes, b_lanes) = (a.chunks_exact(LANES), b.chunks_exact(LANES));
    let tail: f32 = a_lanes
        .remainder()
        .iter()
        .zip(b_lanes.remainder())
        .map(|(x, y)| x * y)
        .sum();
    let mut sums = [0f32; LANES];
    for (x, y) in a_lanes.zip(b_lanes) {
        for ((sum, x), y) in sums.iter_mut().zip(x).zip(y) {
            *sum += x * y;
        }
    }
    sums.iter().sum::<f32>() + tail
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unit(v: [f32; 3]) -> Vec<f32> {
        let n = v.iter().map(|x| x * x).sum::<f32>().sqrt();
        v.iter().map(|x| x / n).collect()
    }

    fn index() -> FewShotIndex {
        FewShotIndex::new(
            2,
            vec![
                (0, "cloud spend report".into(), unit([1.0, 0.1, 0.0])),
                (0, "aws bill".into(), unit([0.9, 0.0, 0.2])),
                (1, "salesforce sync".into(), unit([0.0, 1.0, 0.1])),
            ],
        )
    }

    #[test]
    fn dot_sums_every_lane_and_the_tail() {
        // 384 is a whole number of lanes; 37 leaves a tail; 5 is all tail.
        for len in [384usize, 37, 5, 0] {
            let a: Vec<f32> = (0..len).map(|i| (i % 7) as f32 - 3.0).collect();
            let b: Vec<f32> = (0..len).map(|i| (i % 5) as f32 * 0.5).collect();
            let expected: f64 = a.iter().zip(&b).map(|(x, y)| f64::from(x * y)).sum();
            assert_eq!(f64::from(dot(&a, &b)), expected, "length {len}");
        }
    }

    #[test]
    fn the_closest_label_wins_and_probabilities_sum_to_one() {
        let index = index();
        let evidence = index.evidence("our aws bill", &unit([1.0, 0.0, 0.1]), &[], 2);
        let scores = evidence.combine(&ScoringConfig::default());
        assert_eq!(ranking(&scores), vec![0, 1]);
        let p = softmax(&scores, 0.05);
        assert!(
            (p.iter().sum::<f32>() - 1.0).abs() < 1e-5 && p[0] > 0.9,
            "{p:?}"
        );
        assert_eq!(softmax(&[f32::NAN, 1.0], 0.1).len(), 2);
    }

    #[test]
    fn extra_exemplars_count_for_one_call_only() {
        let index = index();
        let query = unit([0.0, 0.2, 1.0]);
        let before = index.evidence("gizmo ledger", &query, &[], 1);
        let extra = index.prepare(1, "gizmo ledger", unit([0.0, 0.1, 1.0]));
        let extra: Vec<IndexedExemplar> = extra.into_iter().collect();
        let with = index.evidence("gizmo ledger", &query, &extra, 1);
        assert!(
            with.neighbour[1] > 0.99 && with.lexical[1] > before.lexical[1],
            "{with:?}"
        );
        assert_eq!(index.evidence("gizmo ledger", &query, &[], 1), before);
        assert!(index.prepare(7, "x", query.clone()).is_none());
    }

    #[test]
    fn a_label_without_exemplars_scores_lowest() {
        let index = FewShotIndex::new(3, vec![(0, "a b".into(), unit([1.0, 0.0, 0.0]))]);
        let evidence = index.evidence("a", &unit([1.0, 0.0, 0.0]), &[], 2);
        assert_eq!(evidence.neighbour[2], -1.0);
        assert_eq!(evidence.centroid[2], 0.0);
    }
}
