//! The built-in resolver of the review band (`ai-resolve`): a Fellegi-Sunter model whose
//! match and non-match probabilities per field are estimated by EM over the comparison
//! vectors of the run's own candidates, with reviewed pairs (approved: a match, rejected:
//! not) held at their known class. It needs no network and is deterministic. The model here
//! is pure; `run` (the run-level half, which the runner calls) feeds it a run's candidates
//! from the store and applies what it returns.

pub mod run;

/// Agreement levels of a field score: near-equal, close, weak, different.
pub(crate) const LEVELS: [f64; 3] = [0.95, 0.75, 0.4];
pub(crate) const LEVEL_COUNT: usize = LEVELS.len() + 1;
const ITERATIONS: usize = 60;

pub(crate) fn level(score: f64) -> usize {
    LEVELS
        .iter()
        .position(|&t| score >= t)
        .unwrap_or(LEVELS.len())
}

/// Per-field scores of one candidate pair; `None` where the field was missing.
pub type Comparison = Vec<Option<f64>>;

/// A fitted model.
#[derive(Clone, Debug, PartialEq)]
pub struct Model {
    /// `m[field][level]`: how likely a true match shows that level.
    m: Vec<[f64; LEVEL_COUNT]>,
    /// `u[field][level]`: how likely a non-match shows it.
    u: Vec<[f64; LEVEL_COUNT]>,
    prior: f64,
}

impl Model {
    /// EM over `pairs` (unlabelled) and `labelled` pairs whose class is known.
    pub fn fit(fields: usize, pairs: &[Comparison], labelled: &[(Comparison, bool)]) -> Model {
        let mut model = Model {
            m: vec![[0.70, 0.15, 0.10, 0.05]; fields],
            u: vec![[0.05, 0.10, 0.25, 0.60]; fields],
            prior: 0.2,
        };
        if pairs.is_empty() && labelled.is_empty() {
            return model;
        }
        let all: Vec<(&Comparison, Option<bool>)> = pairs
            .iter()
            .map(|c| (c, None))
            .chain(labelled.iter().map(|(c, known)| (c, Some(*known))))
            .collect();
        for _ in 0..ITERATIONS {
            // E-step: the probability that each pair is a match.
            let weights: Vec<f64> = all
                .iter()
                .map(|(c, known)| match known {
                    Some(true) => 1.0,
                    Some(false) => 0.0,
                    None => model.posterior(c),
                })
                .collect();
            // M-step, with add-one smoothing so no level is ever impossible.
            let mut m = vec![[1.0; LEVEL_COUNT]; fields];
            let mut u = vec![[1.0; LEVEL_COUNT]; fields];
            for ((c, _), w) in all.iter().zip(&weights) {
                for (f, score) in c.iter().enumerate().take(fields) {
                    if let Some(s) = score {
                        m[f][level(*s)] += w;
                        u[f][level(*s)] += 1.0 - w;
                    }
                }
            }
            for f in 0..fields {
                let (sm, su): (f64, f64) = (m[f].iter().sum(), u[f].iter().sum());
                for l in 0..LEVEL_COUNT {
                    m[f][l] /= sm;
                    u[f][l] /= su;
                }
            }
            let prior = (weights.iter().sum::<f64>() + 1.0) / (weights.len() as f64 + 2.0);
            let next = Model { m, u, prior };
            let converged = next.distance(&model) < 1e-9;
            model = next;
            if converged {
                break;
            }
        }
        model
    }

    fn distance(&self, other: &Model) -> f64 {
        let tables = self
            .m
            .iter()
            .zip(&other.m)
            .chain(self.u.iter().zip(&other.u));
        tables
            .flat_map(|(a, b)| a.iter().zip(b).map(|(x, y)| (x - y).abs()))
            .fold((self.prior - other.prior).abs(), f64::max)
    }

    /// The probability that a pair with these scores is a match, in 0..1.
    pub fn posterior(&self, comparison: &[Option<f64>]) -> f64 {
        let mut log_odds = (self.prior / (1.0 - self.prior)).ln();
        for (f, score) in comparison.iter().enumerate() {
            if let (Some(s), Some(m), Some(u)) = (score, self.m.get(f), self.u.get(f)) {
                let l = level(*s);
                log_odds += (m[l] / u[l]).ln();
            }
        }
        let p = 1.0 / (1.0 + (-log_odds).exp());
        if p.is_finite() {
            p.clamp(0.0, 1.0)
        } else {
            0.0
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn em_separates_agreeing_from_disagreeing_pairs() {
        // One true pair per result (all fields agree) and four weaker ones.
        let mut pairs = Vec::new();
        for i in 0..50 {
            pairs.push(vec![Some(1.0), Some(0.97), Some(1.0)]);
            for j in 0..4 {
                let x = f64::from((i * 7 + j * 13) % 10) / 20.0;
                pairs.push(vec![Some(x), Some(1.0 - x), None]);
            }
        }
        let model = Model::fit(3, &pairs, &[]);
        let good = model.posterior(&[Some(1.0), Some(0.96), Some(1.0)]);
        let bad = model.posterior(&[Some(0.2), Some(0.8), None]);
        assert!(good > 0.9, "{good}");
        assert!(bad < 0.1, "{bad}");
        assert!((0.0..=1.0).contains(&model.posterior(&[None, None, None])));
        // Deterministic.
        assert_eq!(model, Model::fit(3, &pairs, &[]));
    }

    #[test]
    fn labels_pull_the_model_their_way() {
        let pairs = vec![vec![Some(0.8)]; 20];
        let unlabelled = Model::fit(1, &pairs, &[]);
        let known = vec![(vec![Some(0.8)], false); 20];
        let labelled = Model::fit(1, &pairs, &known);
        assert!(labelled.posterior(&[Some(0.8)]) < unlabelled.posterior(&[Some(0.8)]));
    }
}
