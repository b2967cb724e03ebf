//! Adapting the local encoder to a labelled task: fine-tunes a copy of
//! all-MiniLM-L6-v2 so that texts of one label embed close together and away
//! from the other labels' texts. Few-shot classifiers score with plain cosine
//! afterwards, so a label's new examples still join it without retraining.
//!
//! The loss is a softmax over scaled cosines to one trainable prototype per
//! label (normalised-softmax, as in face-recognition and SetFit-style few-shot
//! work); the prototypes start at the labels' centroids under the original
//! weights. The word, position and type embeddings stay frozen: they are half
//! the parameters, and a few examples per label cannot teach a 30k vocabulary.
//!
//! candle-transformers' BERT uses fused kernels (layer norm, softmax) that have
//! no backward pass, so training runs its own forward pass from differentiable
//! operations. The tuned weights are then loaded into the ordinary inference
//! model: a tuned embedder serves exactly as fast as the original.

use std::collections::HashMap;
use std::hash::{Hash, Hasher};

use candle_core::{D, DType, Device, Tensor, Var};
use candle_nn::{AdamW, Optimizer, ParamsAdamW, VarBuilder};
use tokenizers::Tokenizer;

use super::EmbedError;
use super::local::TokenBatch;

/// How the encoder is fine-tuned. The defaults were picked on CLINC150's
/// held-out `train` rows (10 examples for each of 150 intents).
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct AdaptOptions {
    /// Passes over the examples.
    pub epochs: usize,
    /// AdamW learning rate.
    pub learning_rate: f64,
    /// Cosines are multiplied by this before the softmax (an inverse temperature).
    pub scale: f64,
    /// Examples per optimisation step.
    pub batch_size: usize,
    /// Seed of the example order, so a run can be repeated exactly.
    pub seed: u64,
}

impl Default for AdaptOptions {
    fn default() -> Self {
        AdaptOptions {
            epochs: 4,
            learning_rate: 3e-5,
            scale: 20.0,
            batch_size: 32,
            seed: 12_345,
        }
    }
}

/// One labelled example: its text and label (`0..labels`).
pub type LabelledText = (String, usize);

const HIDDEN: usize = 384;
const HEADS: usize = 12;
const LAYER_NORM_EPS: f64 = 1e-12;

/// Fine-tunes the encoder whose weights are `weights` (all tensors of the
/// original checkpoint, by name) on `examples` and returns the tuned weights
/// under the same names. CPU-bound: minutes for a thousand examples.
pub(crate) fn fine_tune(
    weights: &HashMap<String, Tensor>,
    layers: usize,
    tokenizer: &Tokenizer,
    examples: &[LabelledText],
    options: &AdaptOptions,
) -> Result<HashMap<String, Tensor>, EmbedError> {
    let labels = examples.iter().map(|(_, l)| l + 1).max().unwrap_or(0);
    if labels < 2 {
        return Err(EmbedError::Permanent(
            "adapting the encoder needs examples of at least two labels".into(),
        ));
    }
    if options.epochs == 0 || options.batch_size == 0 {
        return Err(EmbedError::Permanent(
            "adapting the encoder needs at least one epoch and a batch size above zero".into(),
        ));
    }
    let device = Device::Cpu;
    let encoder = TrainableBert::new(weights, layers).map_err(train_error)?;
    let prototypes = centroids(&encoder, tokenizer, examples, labels, &device)?;
    let prototypes = Var::from_tensor(&prototypes).map_err(train_error)?;
    let mut parameters = encoder.trainable();
    parameters.push(prototypes.clone());
    let mut optimiser = AdamW::new(
        parameters,
        ParamsAdamW {
            lr: options.learning_rate,
            weight_decay: 0.01,
            ..ParamsAdamW::default()
        },
    )
    .map_err(train_error)?;

    let mut order: Vec<usize> = (0..examples.len()).collect();
    let mut random = SplitMix(options.seed);
    for _ in 0..options.epochs {
        random.shuffle(&mut order);
        for step in order.chunks(options.batch_size) {
            let texts: Vec<&str> = step.iter().map(|&i| examples[i].0.as_str()).collect();
            let targets: Vec<u32> = step.iter().map(|&i| examples[i].1 as u32).collect();
            let (ids, mask) = encode(tokenizer, texts, &device)?;
            let loss = (|| {
                let embedded = encoder.forward(&ids, &mask)?;
                let logits =
                    (embedded.matmul(&unit_rows(prototypes.as_tensor())?.t()?)? * options.scale)?;
                let targets = Tensor::new(targets, &device)?;
                candle_nn::loss::cross_entropy(&logits, &targets)
            })()
            .map_err(train_error)?;
            optimiser.backward_step(&loss).map_err(train_error)?;
        }
    }
    encoder.weights(weights).map_err(train_error)
}

/// A stable identity for an adaptation, for the tuned embedder's model id:
/// the same examples and options give the same id in every process.
pub(crate) fn fingerprint(examples: &[LabelledText], options: &AdaptOptions) -> u64 {
    // FNV-1a over a canonical rendering: std's hashers may change between releases.
    let mut hasher = Fnv(0xcbf2_9ce4_8422_2325);
    for (text, label) in examples {
        text.hash(&mut hasher);
        label.hash(&mut hasher);
    }
    serde_json::to_string(options)
        .unwrap_or_default()
        .hash(&mut hasher);
    hasher.finish()
}

struct Fnv(u64);

impl Hasher for Fnv {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = (self.0 ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3);
        }
    }
}

/// A small deterministic generator for shuffling (SplitMix64).
struct SplitMix(u64);

impl SplitMix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn shuffle(&mut self, items: &mut [usize]) {
        for i in (1..items.len()).rev() {
            let j = (self.next() % (i as u64 + 1)) as usize;
            items.swap(i, j);
        }
    }
}

/// Each label's mean embedding under the starting weights, one row per label.
fn centroids(
    encoder: &TrainableBert,
    tokenizer: &Tokenizer,
    examples: &[LabelledText],
    labels: usize,
    device: &Device,
) -> Result<Tensor, EmbedError> {
    let mut sums = vec![vec![0f32; HIDDEN]; labels];
    for batch in examples.chunks(64) {
        let texts: Vec<&str> = batch.iter().map(|(t, _)| t.as_str()).collect();
        let (ids, mask) = encode(tokenizer, texts, device)?;
        let vectors: Vec<Vec<f32>> = encoder
            .forward(&ids, &mask)
            .and_then(|v| v.detach().to_vec2())
            .map_err(train_error)?;
        for ((_, label), vector) in batch.iter().zip(vectors) {
            sums[*label]
                .iter_mut()
                .zip(vector)
                .for_each(|(s, x)| *s += x);
        }
    }
    // A label without examples keeps a zero row; normalising leaves it tiny.
    let flat: Vec<f32> = sums.into_iter().flatten().collect();
    Tensor::from_vec(flat, (labels, HIDDEN), device).map_err(train_error)
}

fn encode(
    tokenizer: &Tokenizer,
    texts: Vec<&str>,
    device: &Device,
) -> Result<(Tensor, Tensor), EmbedError> {
    // Single texts: every token type is 0, as the training forward pass assumes.
    let batch = TokenBatch::encode(tokenizer, texts, device).map_err(train_error)?;
    Ok((batch.ids, batch.mask))
}

fn unit_rows(x: &Tensor) -> candle_core::Result<Tensor> {
    x.broadcast_div(&x.sqr()?.sum_keepdim(1)?.sqrt()?.clamp(1e-12f32, f32::MAX)?)
}

fn train_error(e: impl std::fmt::Display) -> EmbedError {
    EmbedError::Permanent(format!("adapting the local model: {e}"))
}

/// A weight matrix (or layer-norm scale) and its bias.
struct Affine {
    weight: Var,
    bias: Var,
}

impl Affine {
    fn load(weights: &HashMap<String, Tensor>, name: &str) -> candle_core::Result<Affine> {
        let get = |part: &str| {
            let key = format!("{name}.{part}");
            weights
                .get(&key)
                .ok_or_else(|| candle_core::Error::Msg(format!("the checkpoint has no {key}")))
                .and_then(Var::from_tensor)
        };
        Ok(Affine {
            weight: get("weight")?,
            bias: get("bias")?,
        })
    }

    /// `x · Wᵀ + b` over the last dimension of a (batch, tokens, in) tensor.
    fn linear(&self, x: &Tensor) -> candle_core::Result<Tensor> {
        let (batch, tokens, width) = x.dims3()?;
        x.reshape((batch * tokens, width))?
            .matmul(&self.weight.as_tensor().t()?)?
            .broadcast_add(self.bias.as_tensor())?
            .reshape((batch, tokens, ()))
    }

    /// Layer normalisation over the last dimension, this being its scale and shift.
    fn layer_norm(&self, x: &Tensor) -> candle_core::Result<Tensor> {
        let centred = x.broadcast_sub(&x.mean_keepdim(D::Minus1)?)?;
        let variance = centred.sqr()?.mean_keepdim(D::Minus1)?;
        centred
            .broadcast_div(&(variance + LAYER_NORM_EPS)?.sqrt()?)?
            .broadcast_mul(self.weight.as_tensor())?
            .broadcast_add(self.bias.as_tensor())
    }

    fn named(&self, name: &str) -> [(String, Tensor); 2] {
        [
            (format!("{name}.weight"), self.weight.as_tensor().detach()),
            (format!("{name}.bias"), self.bias.as_tensor().detach()),
        ]
    }
}

/// The parts of one transformer layer, under the checkpoint's names.
const LAYER_PARTS: [&str; 8] = [
    "attention.self.query",
    "attention.self.key",
    "attention.self.value",
    "attention.output.dense",
    "attention.output.LayerNorm",
    "intermediate.dense",
    "output.dense",
    "output.LayerNorm",
];

/// BERT from differentiable operations: frozen embeddings, trainable layers.
struct TrainableBert {
    word: Tensor,
    position: Tensor,
    token_type: Tensor,
    /// Frozen like the embeddings: it is not among [`Self::trainable`].
    embedding_norm: Affine,
    /// Per layer, [`LAYER_PARTS`] in order.
    layers: Vec<[Affine; 8]>,
}

impl TrainableBert {
    fn new(weights: &HashMap<String, Tensor>, layers: usize) -> candle_core::Result<Self> {
        let get = |key: &str| {
            weights
                .get(key)
                .cloned()
                .ok_or_else(|| candle_core::Error::Msg(format!("the checkpoint has no {key}")))
        };
        let layers = (0..layers)
            .map(|l| {
                let parts: Vec<Affine> = LAYER_PARTS
                    .iter()
                    .map(|part| Affine::load(weights, &format!("encoder.layer.{l}.{part}")))
                    .collect::<candle_core::Result<_>>()?;
                parts
                    .try_into()
                    .map_err(|_| candle_core::Error::Msg("layer parts".into()))
            })
            .collect::<candle_core::Result<_>>()?;
        Ok(TrainableBert {
            word: get("embeddings.word_embeddings.weight")?,
            position: get("embeddings.position_embeddings.weight")?,
            token_type: get("embeddings.token_type_embeddings.weight")?,
            embedding_norm: Affine::load(weights, "embeddings.LayerNorm")?,
            layers,
        })
    }

    fn trainable(&self) -> Vec<Var> {
        self.layers
            .iter()
            .flatten()
            .flat_map(|a| [a.weight.clone(), a.bias.clone()])
            .collect()
    }

    /// Every tensor of `original`, with the trained layers' replaced.
    fn weights(
        &self,
        original: &HashMap<String, Tensor>,
    ) -> candle_core::Result<HashMap<String, Tensor>> {
        let mut tuned = original.clone();
        for (l, layer) in self.layers.iter().enumerate() {
            for (part, affine) in LAYER_PARTS.iter().zip(layer) {
                tuned.extend(affine.named(&format!("encoder.layer.{l}.{part}")));
            }
        }
        Ok(tuned)
    }

    /// Mean-pooled, L2-normalised sentence embeddings, (batch, 384).
    fn forward(&self, ids: &Tensor, mask: &Tensor) -> candle_core::Result<Tensor> {
        let (batch, tokens) = ids.dims2()?;
        let x = self
            .word
            .index_select(&ids.flatten_all()?, 0)?
            .reshape((batch, tokens, HIDDEN))?
            .broadcast_add(&self.position.narrow(0, 0, tokens)?)?
            .broadcast_add(&self.token_type.narrow(0, 0, 1)?)?;
        let mut x = self.embedding_norm.layer_norm(&x)?;
        let mask = mask.to_dtype(DType::F32)?;
        // Padding gets a large negative score before the attention softmax.
        let padding = ((&mask - 1.0)? * 10_000.0)?.reshape((batch, 1, 1, tokens))?;
        let head = HIDDEN / HEADS;
        for [
            query,
            key,
            value,
            output,
            norm,
            intermediate,
            down,
            out_norm,
        ] in &self.layers
        {
            let heads = |a: &Affine| {
                a.linear(&x)?
                    .reshape((batch, tokens, HEADS, head))?
                    .transpose(1, 2)?
                    .contiguous()
            };
            let (q, k, v) = (heads(query)?, heads(key)?, heads(value)?);
            let scores = (q.matmul(&k.t()?.contiguous()?)? / (head as f64).sqrt())?
                .broadcast_add(&padding)?;
            let attention = candle_nn::ops::softmax(&scores, D::Minus1)?;
            let context = attention
                .matmul(&v)?
                .transpose(1, 2)?
                .contiguous()?
                .reshape((batch, tokens, HIDDEN))?;
            x = norm.layer_norm(&(output.linear(&context)? + &x)?)?;
            let hidden = intermediate.linear(&x)?.gelu_erf()?;
            x = out_norm.layer_norm(&(down.linear(&hidden)? + &x)?)?;
        }
        let mask = mask.unsqueeze(2)?;
        let mean = x
            .broadcast_mul(&mask)?
            .sum(1)?
            .broadcast_div(&mask.sum(1)?.clamp(1e-9f32, f32::MAX)?)?;
        unit_rows(&mean)
    }
}

/// Reads every tensor of a safetensors buffer.
pub(crate) fn read_weights(
    buffer: &[u8],
    device: &Device,
) -> candle_core::Result<HashMap<String, Tensor>> {
    candle_core::safetensors::load_buffer(buffer, device)
}

/// Builds the inference model's variable source from tuned weights.
pub(crate) fn var_builder(
    weights: HashMap<String, Tensor>,
    device: &Device,
) -> VarBuilder<'static> {
    VarBuilder::from_tensors(weights, DType::F32, device)
}
