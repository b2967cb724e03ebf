//! The local embedder: sentence-transformers all-MiniLM-L6-v2 run on the CPU with
//! candle's BERT, mean-pooled and L2-normalised like sentence-transformers does.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use candle_core::{Device, Tensor};
use candle_nn::VarBuilder;
use candle_transformers::models::bert::{BertModel, Config, DTYPE};
use tokenizers::{PaddingParams, PaddingStrategy, Tokenizer, TruncationParams};

use super::adapt::{self, AdaptOptions, LabelledText};
use super::{AdaptFuture, EmbedError, EmbedFuture, Embedder, TokenCounter};

const MODEL_ID: &str = "local/all-MiniLM-L6-v2";
const DIMENSION: usize = 384;
/// The model's `max_seq_length` (sentence_bert_config.json); longer inputs are
/// truncated, as sentence-transformers does.
const MAX_SEQUENCE_TOKENS: usize = 256;
/// Inputs per forward pass: larger batches gain little on a few cores and pad more.
const BATCH_SIZE: usize = 32;

/// all-MiniLM-L6-v2 on the CPU (384 dimensions). Cheap to clone. Every clone
/// feeds one queue, served by a worker thread per core: concurrent callers'
/// texts share forward passes, no more passes run at once than there are
/// cores, and the texts of short requests go first, so a question is not
/// stuck behind an ingest.
#[derive(Clone)]
pub struct LocalEmbedder {
    inner: Arc<Model>,
    queue: Arc<QueueHandle>,
}

impl std::fmt::Debug for LocalEmbedder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LocalEmbedder")
            .field("model_id", &MODEL_ID)
            .finish_non_exhaustive()
    }
}

struct Model {
    /// [`MODEL_ID`], or that with an adaptation's fingerprint.
    model_id: String,
    /// Where the original weights are, for [`LocalEmbedder::adapted`].
    model_dir: PathBuf,
    config: Config,
    bert: BertModel,
    /// Pads each batch to its longest input and truncates at the model's limit.
    tokenizer: Tokenizer,
    counter: TokenCounter,
    device: Device,
}

impl LocalEmbedder {
    /// Text tokens the model reads before truncating: its 256-token window less
    /// `[CLS]` and `[SEP]`. Chunks sized by [`TokenCounter::count`] up to this are
    /// embedded whole.
    pub const MAX_TEXT_TOKENS: usize = MAX_SEQUENCE_TOKENS - 2;

    /// Loads `config.json`, `tokenizer.json` and `model.safetensors` from
    /// `model_dir` (see `scripts/fetch-model.sh`). Takes about half a second and
    /// ~90 MB; call it once and share the embedder.
    pub fn load(model_dir: &Path) -> Result<Self, EmbedError> {
        if !model_dir.is_dir() {
            return Err(load_error(model_dir, "directory not found"));
        }
        let config_path = model_dir.join("config.json");
        let config =
            std::fs::read_to_string(&config_path).map_err(|e| load_error(&config_path, e))?;
        let config: Config =
            serde_json::from_str(&config).map_err(|e| load_error(&config_path, e))?;
        if config.hidden_size != DIMENSION {
            return Err(load_error(
                &config_path,
                format!(
                    "hidden_size is {}, expected {DIMENSION} for all-MiniLM-L6-v2",
                    config.hidden_size
                ),
            ));
        }

        let tokenizer_path = model_dir.join("tokenizer.json");
        let mut tokenizer =
            Tokenizer::from_file(&tokenizer_path).map_err(|e| load_error(&tokenizer_path, e))?;
        let counter = TokenCounter::new(tokenizer.clone());
        // tokenizer.json pads every input to 128 tokens; pad to the batch's
        // longest instead, and truncate at the model's real limit.
        tokenizer.with_padding(Some(PaddingParams {
            strategy: PaddingStrategy::BatchLongest,
            ..PaddingParams::default()
        }));
        tokenizer
            .with_truncation(Some(TruncationParams {
                max_length: MAX_SEQUENCE_TOKENS,
                ..TruncationParams::default()
            }))
            .map_err(|e| load_error(&tokenizer_path, e))?;

        // Read into memory rather than mmap: mapping a file is `unsafe` (another
        // process could change it underneath), and the workspace forbids unsafe.
        // The buffer is dropped once the weights are copied into tensors.
        let weights_path = model_dir.join("model.safetensors");
        let weights = std::fs::read(&weights_path).map_err(|e| load_error(&weights_path, e))?;
        let device = Device::Cpu;
        let weights = adapt::read_weights(&weights, &device)
            .and_then(inference_layout)
            .map_err(|e| load_error(&weights_path, e))?;
        let vb = VarBuilder::from_tensors(weights, DTYPE, &device);
        let bert = BertModel::load(vb, &config).map_err(|e| load_error(&weights_path, e))?;
        Self::start(Model {
            model_id: MODEL_ID.to_owned(),
            model_dir: model_dir.to_path_buf(),
            config,
            bert,
            tokenizer,
            counter,
            device,
        })
    }

    /// A copy of this embedder fine-tuned on `examples` (see [`adapt`](super::adapt)),
    /// with its own threads and a model id naming the adaptation. Blocks for
    /// as long as training takes: minutes for a thousand examples.
    pub fn adapted(
        &self,
        examples: &[LabelledText],
        options: &AdaptOptions,
    ) -> Result<LocalEmbedder, EmbedError> {
        let model = &self.inner;
        let weights_path = model.model_dir.join("model.safetensors");
        let buffer = std::fs::read(&weights_path).map_err(|e| load_error(&weights_path, e))?;
        let weights = adapt::read_weights(&buffer, &model.device)
            .map_err(|e| load_error(&weights_path, e))?;
        let tuned = adapt::fine_tune(
            &weights,
            model.config.num_hidden_layers,
            &model.tokenizer,
            examples,
            options,
        )?;
        let tuned = inference_layout(tuned).map_err(compute_error)?;
        let vb = adapt::var_builder(tuned, &model.device);
        let bert = BertModel::load(vb, &model.config).map_err(compute_error)?;
        Self::start(Model {
            model_id: format!(
                "{}+adapted-{:016x}",
                model.model_id,
                adapt::fingerprint(examples, options)
            ),
            model_dir: model.model_dir.clone(),
            config: model.config.clone(),
            bert,
            tokenizer: model.tokenizer.clone(),
            counter: model.counter.clone(),
            device: model.device.clone(),
        })
    }

    /// Starts the worker threads serving `model`.
    fn start(model: Model) -> Result<Self, EmbedError> {
        let model_dir = model.model_dir.clone();
        let inner = Arc::new(model);
        let workers = std::thread::available_parallelism().map_or(1, |n| n.get());
        let queue = Arc::new(Queue {
            workers,
            ..Queue::default()
        });
        // Each worker runs inside a rayon pool of its own, as wide as candle
        // splits its matrix products (`RAYON_NUM_THREADS`, one thread per core
        // unless set). candle runs softmax and layer norm with rayon too: in
        // the global pool every one of those (19 a pass) was handed to another
        // thread and waited for, and both workers queued for the same threads.
        let threads_per_pass = candle_core::utils::get_num_threads();
        let mut pools = Vec::with_capacity(workers);
        for n in 0..workers {
            let (model, queue) = (Arc::clone(&inner), Arc::clone(&queue));
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads_per_pass)
                .thread_name(move |i| format!("aos-embed-{n}-{i}"))
                .build()
                .map_err(|e| {
                    load_error(&model_dir, format!("cannot start an embedding thread: {e}"))
                })?;
            pool.spawn(move || model.serve(&queue));
            pools.push(pool);
        }
        Ok(Self {
            inner,
            queue: Arc::new(QueueHandle {
                queue,
                _pools: pools,
            }),
        })
    }

    /// A token counter using this model's tokenizer.
    pub fn token_counter(&self) -> TokenCounter {
        self.inner.counter.clone()
    }
}

impl Embedder for LocalEmbedder {
    fn model_id(&self) -> &str {
        &self.inner.model_id
    }

    fn dimension(&self) -> usize {
        DIMENSION
    }

    fn embed<'a>(&'a self, texts: &'a [String]) -> EmbedFuture<'a> {
        Box::pin(async move {
            if texts.is_empty() {
                return Ok(Vec::new());
            }
            let (reply, answer) = tokio::sync::oneshot::channel();
            self.queue.queue.push(Job::new(texts.to_vec(), reply));
            answer
                .await
                .map_err(|_| EmbedError::Permanent("the embedding threads have stopped".into()))?
        })
    }

    fn adapt<'a>(
        &'a self,
        examples: &'a [LabelledText],
        options: &'a AdaptOptions,
    ) -> AdaptFuture<'a> {
        Box::pin(async move {
            let (reply, answer) = tokio::sync::oneshot::channel();
            let (this, examples, options) = (self.clone(), examples.to_vec(), *options);
            std::thread::Builder::new()
                .name("aos-embed-adapt".into())
                .spawn(move || {
                    let _ = reply.send(this.adapted(&examples, &options));
                })
                .map_err(|e| compute_error(format!("cannot start the training thread: {e}")))?;
            let adapted = answer
                .await
                .map_err(|_| compute_error("the training thread stopped"))??;
            Ok(Arc::new(adapted) as Arc<dyn Embedder>)
        })
    }
}

/// `weights` laid out for fast inference: every dense layer's matrix, stored
/// `(out, in)` as checkpoints keep it, is stored transposed underneath while
/// keeping its `(out, in)` shape. A linear layer multiplies by the matrix's
/// transpose, which is then contiguous: the matrix product reads it row by row
/// instead of gathering a column with every step. Together with gemm's AVX-512
/// kernels this took a short query from 15 to 9 ms (README, "Dense weights").
fn inference_layout(
    weights: HashMap<String, Tensor>,
) -> candle_core::Result<HashMap<String, Tensor>> {
    weights
        .into_iter()
        .map(|(name, tensor)| {
            let dense = tensor.rank() == 2 && !name.contains("embeddings");
            let tensor = if dense {
                tensor.t()?.contiguous()?.t()?
            } else {
                tensor
            };
            Ok((name, tensor))
        })
        .collect()
}

/// The work waiting for the embedding threads.
#[derive(Default)]
struct Queue {
    /// Threads serving the queue.
    workers: usize,
    state: std::sync::Mutex<QueueState>,
    /// Signalled when a job arrives or the queue closes.
    changed: std::sync::Condvar,
}

#[derive(Default)]
struct QueueState {
    jobs: Vec<Job>,
    next_id: u64,
    /// Every embedder clone is gone: the threads finish what they hold and stop.
    closed: bool,
}

/// Closes the queue when the last embedder clone is dropped.
struct QueueHandle {
    queue: Arc<Queue>,
    /// The workers' pools, released once the queue is closed and the workers return.
    _pools: Vec<rayon::ThreadPool>,
}

impl Drop for QueueHandle {
    fn drop(&mut self) {
        self.queue.lock().closed = true;
        self.queue.changed.notify_all();
    }
}

impl Queue {
    fn lock(&self) -> std::sync::MutexGuard<'_, QueueState> {
        // A thread that panicked while holding the lock left consistent data:
        // every change under it is a single push, retain or field update.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn push(&self, mut job: Job) {
        let mut state = self.lock();
        job.id = state.next_id;
        state.next_id += 1;
        state.jobs.push(job);
        drop(state);
        self.changed.notify_one();
    }
}

/// One caller's texts, waiting for (or part way through) the threads.
struct Job {
    id: u64,
    texts: Vec<String>,
    /// Indices into `texts`, shortest first, so consecutive batches of one
    /// job have similar lengths and little padding.
    order: Vec<usize>,
    /// How many of `order` a thread has taken.
    taken: usize,
    /// How many of `order` were embedded.
    done: usize,
    vectors: Vec<Vec<f32>>,
    reply: Reply,
}

/// Where a job's vectors (or its error) go.
type Reply = tokio::sync::oneshot::Sender<Result<Vec<Vec<f32>>, EmbedError>>;

impl Job {
    fn new(texts: Vec<String>, reply: Reply) -> Job {
        let mut order: Vec<usize> = (0..texts.len()).collect();
        // Character count is a cheap stand-in for token count.
        order.sort_by_cached_key(|&i| texts[i].chars().count());
        let vectors = vec![Vec::new(); texts.len()];
        Job {
            id: 0,
            texts,
            order,
            taken: 0,
            done: 0,
            vectors,
            reply,
        }
    }

    fn untaken(&self) -> usize {
        self.order.len() - self.taken
    }

    /// Characters of the next text to take (0 when none is left).
    fn next_length(&self) -> usize {
        self.order
            .get(self.taken)
            .map_or(0, |&i| self.texts[i].chars().count())
    }
}

impl Model {
    /// One embedding thread: takes its share of the waiting texts (at most
    /// [`BATCH_SIZE`]), fewest untaken first, embeds them outside the lock, and answers
    /// each job once all its texts are in. Nothing waits for a batch to fill:
    /// what arrives during one pass forms the next.
    fn serve(&self, queue: &Queue) {
        let mut state = queue.lock();
        loop {
            // A caller that stopped waiting no longer needs its texts.
            state.jobs.retain(|job| !job.reply.is_closed());
            // Fewest untaken first; among equals (many one-question jobs)
            // by length, so a batch's texts are alike and little is padding.
            state
                .jobs
                .sort_by_cached_key(|job| (job.untaken(), job.next_length()));
            // An equal share of what waits, so every thread has a part of it.
            let waiting: usize = state.jobs.iter().map(Job::untaken).sum();
            let size = waiting.div_ceil(queue.workers.max(1)).clamp(1, BATCH_SIZE);
            let mut batch: Vec<(u64, usize, String)> = Vec::with_capacity(size);
            for job in state.jobs.iter_mut() {
                let take = job.untaken().min(size - batch.len());
                for &i in &job.order[job.taken..job.taken + take] {
                    batch.push((job.id, i, job.texts[i].clone()));
                }
                job.taken += take;
                if batch.len() == size {
                    break;
                }
            }
            if batch.is_empty() {
                if state.closed {
                    return;
                }
                state = queue.changed.wait(state).unwrap_or_else(|e| e.into_inner());
                continue;
            }
            // More than this thread took: wake another for the rest.
            if state.jobs.iter().any(|job| job.untaken() > 0) {
                queue.changed.notify_one();
            }
            drop(state);
            let texts: Vec<&str> = batch.iter().map(|(_, _, text)| text.as_str()).collect();
            // A panic inside the model fails this pass, not the thread.
            let outcome =
                std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| self.embed_batch(texts)))
                    .unwrap_or_else(|_| Err(compute_error("the forward pass panicked")));
            state = queue.lock();
            let failed = match outcome {
                Ok(vectors) => {
                    for ((id, i, _), vector) in batch.iter().zip(vectors) {
                        if let Some(job) = state.jobs.iter_mut().find(|job| job.id == *id) {
                            job.vectors[*i] = vector;
                            job.done += 1;
                        }
                    }
                    None
                }
                // Every job in the failed pass gets the error; the rest go on.
                Err(err) => {
                    for job in state.jobs.iter_mut() {
                        if batch.iter().any(|(id, _, _)| *id == job.id) {
                            job.taken = job.order.len();
                            job.done = job.order.len();
                        }
                    }
                    Some(err.to_string())
                }
            };
            let finished: Vec<Job> = state
                .jobs
                .extract_if(.., |job| job.done == job.order.len())
                .collect();
            for job in finished {
                let answer = match &failed {
                    Some(message) if job.vectors.iter().any(Vec::is_empty) => {
                        Err(EmbedError::Permanent(message.clone()))
                    }
                    _ => Ok(job.vectors),
                };
                // The caller may have gone; nothing to do then.
                let _ = job.reply.send(answer);
            }
        }
    }

    fn embed_batch(&self, texts: Vec<&str>) -> Result<Vec<Vec<f32>>, EmbedError> {
        let TokenBatch {
            ids,
            type_ids,
            mask,
        } = TokenBatch::encode(&self.tokenizer, texts, &self.device).map_err(compute_error)?;

        let pooled = (|| {
            let hidden = self.bert.forward(&ids, &type_ids, Some(&mask))?; // (rows, columns, 384)
            // Mean over the real tokens only: padding must not dilute the average.
            let mask = mask.to_dtype(DTYPE)?.unsqueeze(2)?; // (rows, columns, 1)
            let summed = hidden.broadcast_mul(&mask)?.sum(1)?; // (rows, 384)
            let counts = mask.sum(1)?.clamp(1e-9f32, f32::MAX)?; // (rows, 1)
            let mean = summed.broadcast_div(&counts)?;
            let norms = mean
                .sqr()?
                .sum_keepdim(1)?
                .sqrt()?
                .clamp(1e-12f32, f32::MAX)?;
            mean.broadcast_div(&norms)?.to_vec2::<f32>()
        })()
        .map_err(compute_error)?;
        Ok(pooled)
    }
}

/// A batch of texts as the model reads them: token ids, token type ids and
/// attention mask, each (texts, longest text) with padding.
pub(super) struct TokenBatch {
    pub(super) ids: Tensor,
    pub(super) type_ids: Tensor,
    pub(super) mask: Tensor,
}

impl TokenBatch {
    /// Tokenises `texts` with `tokenizer`, which must pad every batch to its longest.
    pub(super) fn encode(
        tokenizer: &Tokenizer,
        texts: Vec<&str>,
        device: &Device,
    ) -> Result<TokenBatch, String> {
        let encodings = tokenizer
            .encode_batch_fast(texts, true)
            .map_err(|e| e.to_string())?;
        let rows = encodings.len();
        let columns = encodings.first().map_or(0, |e| e.len());
        let mut ids = Vec::with_capacity(rows * columns);
        let mut type_ids = Vec::with_capacity(rows * columns);
        let mut mask = Vec::with_capacity(rows * columns);
        for encoding in &encodings {
            if encoding.len() != columns {
                return Err("tokenizer did not pad the batch evenly".into());
            }
            ids.extend_from_slice(encoding.get_ids());
            type_ids.extend_from_slice(encoding.get_type_ids());
            mask.extend_from_slice(encoding.get_attention_mask());
        }
        let shape = (rows, columns);
        let tensor =
            |values: Vec<u32>| Tensor::from_vec(values, shape, device).map_err(|e| e.to_string());
        Ok(TokenBatch {
            ids: tensor(ids)?,
            type_ids: tensor(type_ids)?,
            mask: tensor(mask)?,
        })
    }
}

fn load_error(path: &Path, reason: impl std::fmt::Display) -> EmbedError {
    EmbedError::Load {
        path: PathBuf::from(path),
        reason: reason.to_string(),
    }
}

/// A failure inside tokenisation or the forward pass: a bug or a corrupt model,
/// not something a retry fixes.
fn compute_error(e: impl std::fmt::Display) -> EmbedError {
    EmbedError::Permanent(format!("local model: {e}"))
}

#[cfg(test)]
mod tests {
    use std::sync::OnceLock;

    use super::*;
    use crate::embed::{cosine, test_model_dir};

    /// One model for all tests: loading reads 90 MB.
    fn embedder() -> &'static LocalEmbedder {
        static EMBEDDER: OnceLock<LocalEmbedder> = OnceLock::new();
        EMBEDDER.get_or_init(|| {
            LocalEmbedder::load(&test_model_dir()).unwrap_or_else(|e| panic!("{e}"))
        })
    }

    fn strings(texts: &[&str]) -> Vec<String> {
        texts.iter().map(|t| t.to_string()).collect()
    }

    async fn embed(texts: &[&str]) -> Vec<Vec<f32>> {
        embedder()
            .embed(&strings(texts))
            .await
            .unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn inference_layout_keeps_every_value_and_makes_dense_transposes_contiguous() {
        let device = Device::Cpu;
        let dense = Tensor::arange(0f32, 6.0, &device)
            .and_then(|t| t.reshape((2, 3)))
            .unwrap();
        let table = dense.clone();
        let weights = HashMap::from([
            (
                "encoder.layer.0.intermediate.dense.weight".to_owned(),
                dense.clone(),
            ),
            (
                "embeddings.word_embeddings.weight".to_owned(),
                table.clone(),
            ),
        ]);
        let laid_out = inference_layout(weights).unwrap();
        let values = |t: &Tensor| t.to_vec2::<f32>().unwrap();

        let relaid = &laid_out["encoder.layer.0.intermediate.dense.weight"];
        assert_eq!(relaid.dims(), &[2, 3]);
        assert_eq!(values(relaid), values(&dense));
        assert!(!relaid.is_contiguous() && relaid.t().unwrap().is_contiguous());

        let untouched = &laid_out["embeddings.word_embeddings.weight"];
        assert!(untouched.is_contiguous());
        assert_eq!(values(untouched), values(&table));
    }

    #[tokio::test]
    async fn matches_sentence_transformers_reference_similarities() {
        let v = embed(&[
            "A man is eating food.",
            "A man is eating a piece of bread.",
            "The girl is carrying a baby.",
        ])
        .await;
        assert_eq!(v.len(), 3);
        assert!(v.iter().all(|x| x.len() == 384));
        for x in &v {
            let norm = x.iter().map(|a| a * a).sum::<f32>().sqrt();
            assert!((norm - 1.0).abs() < 1e-4, "norm {norm}");
        }
        let similar = cosine(&v[0], &v[1]);
        let unrelated = cosine(&v[0], &v[2]);
        assert!(
            (similar - 0.7553).abs() < 0.01,
            "cos = {similar}, expected 0.7553"
        );
        assert!(
            (unrelated + 0.1050).abs() < 0.01,
            "cos = {unrelated}, expected -0.1050"
        );
    }

    #[tokio::test]
    async fn batch_of_mixed_lengths_equals_one_by_one() {
        let long = "Retrieval works best when each chunk covers one idea. ".repeat(12);
        let texts = [
            "Short.",
            long.as_str(),
            "A medium-length sentence about vector search in PostgreSQL.",
            "",
            "Another short one",
            "Tokens: naïve café, 東京, 👍.",
        ];
        // More inputs than one batch, so sorting and batching are both exercised.
        let many: Vec<&str> = texts.iter().copied().cycle().take(BATCH_SIZE + 7).collect();
        let batched = embed(&many).await;
        assert_eq!(batched.len(), many.len());
        let max_diff = |a: &[f32], b: &[f32]| {
            a.iter()
                .zip(b)
                .map(|(x, y)| (x - y).abs())
                .fold(0.0f32, f32::max)
        };
        let mut alone = Vec::new();
        for text in texts {
            alone.push(embed(&[text]).await.remove(0));
        }
        for (i, (text, vector)) in many.iter().zip(&batched).enumerate() {
            let diff = max_diff(vector, &alone[i % texts.len()]);
            assert!(diff < 1e-4, "input {i} {text:?}: batched differs by {diff}");
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_callers_share_batches_and_each_gets_its_own_vectors() {
        let texts: Vec<String> = (0..40)
            .map(|i| format!("question number {i} about the {} budget", i * 7))
            .collect();
        let mut alone = Vec::new();
        for text in &texts[..5] {
            alone.push(embed(&[text]).await.remove(0));
        }
        // One caller gives up at once; the others must not notice.
        let abandoned = embedder().embed(&texts[..3]);
        drop(abandoned);
        let callers: Vec<_> = texts
            .iter()
            .map(|t| {
                let text = vec![t.clone()];
                tokio::spawn(async move { embedder().embed(&text).await })
            })
            .collect();
        for (i, caller) in callers.into_iter().enumerate() {
            let vector = caller
                .await
                .unwrap_or_else(|e| panic!("{e}"))
                .unwrap_or_else(|e| panic!("{e}"))
                .remove(0);
            if let Some(reference) = alone.get(i) {
                let diff = vector
                    .iter()
                    .zip(reference)
                    .map(|(x, y)| (x - y).abs())
                    .fold(0.0f32, f32::max);
                assert!(diff < 1e-4, "caller {i}: differs by {diff}");
            }
            // Each caller's vector is its own text's, not a neighbour's.
            let own = cosine(&vector, &embed(&[&texts[i]]).await[0]);
            assert!(own > 0.9999, "caller {i}: {own}");
        }
    }

    #[tokio::test]
    async fn empty_input_gives_empty_output() {
        assert!(embed(&[]).await.is_empty());
    }

    #[tokio::test]
    async fn over_long_input_is_truncated_not_rejected() {
        let long = "word ".repeat(2000);
        let v = embed(&[&long]).await;
        assert_eq!(v[0].len(), 384);
    }

    #[test]
    fn identity_and_counter() {
        let e = embedder();
        assert_eq!(e.model_id(), "local/all-MiniLM-L6-v2");
        assert_eq!(e.dimension(), 384);
        assert_eq!(e.token_counter().count("hello world"), 2);
    }

    #[test]
    fn missing_directory_is_a_load_error_naming_the_fix() {
        let err = LocalEmbedder::load(Path::new("/nonexistent/model")).err();
        let msg = err.map(|e| e.to_string()).unwrap_or_default();
        assert!(
            msg.contains("/nonexistent/model") && msg.contains("scripts/fetch-model.sh"),
            "{msg}"
        );
    }

    /// Mean cosine between texts of the same label less that between texts of
    /// different labels.
    fn margin(vectors: &[Vec<f32>], labels: &[usize]) -> f32 {
        let (mut same, mut other) = (Vec::new(), Vec::new());
        for i in 0..vectors.len() {
            for j in i + 1..vectors.len() {
                let bucket = if labels[i] == labels[j] {
                    &mut same
                } else {
                    &mut other
                };
                bucket.push(cosine(&vectors[i], &vectors[j]));
            }
        }
        let mean = |v: &[f32]| v.iter().sum::<f32>() / v.len() as f32;
        mean(&same) - mean(&other)
    }

    #[tokio::test]
    async fn adapting_pulls_a_labels_texts_together_under_a_new_model_id() {
        // Two labels whose texts share words across labels, not within them.
        let examples: Vec<LabelledText> = [
            ("book a table for two tonight", 0),
            ("reserve a restaurant for friday", 0),
            ("can you get us dinner reservations", 0),
            ("i need a table at an italian place", 0),
            ("how many calories are in a table spoon of butter", 1),
            ("is friday's dinner healthy enough", 1),
            ("nutrition facts for a restaurant burger", 1),
            ("how much protein is in two eggs", 1),
        ]
        .iter()
        .map(|(t, l)| (t.to_string(), *l))
        .collect();
        let texts: Vec<String> = examples.iter().map(|(t, _)| t.clone()).collect();
        let labels: Vec<usize> = examples.iter().map(|(_, l)| *l).collect();
        let before = margin(
            &embed(&texts.iter().map(String::as_str).collect::<Vec<_>>()).await,
            &labels,
        );

        let options = AdaptOptions {
            epochs: 6,
            learning_rate: 1e-4,
            batch_size: 4,
            ..AdaptOptions::default()
        };
        let adapted = embedder()
            .adapt(&examples, &options)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(
            adapted
                .model_id()
                .starts_with("local/all-MiniLM-L6-v2+adapted-"),
            "{}",
            adapted.model_id()
        );
        assert_eq!(adapted.dimension(), 384);
        let after = margin(&adapted.embed(&texts).await.unwrap(), &labels);
        assert!(after > before + 0.1, "margin {before} -> {after}");

        // The original is untouched.
        assert_eq!(embedder().model_id(), "local/all-MiniLM-L6-v2");
        let again = margin(
            &embed(&texts.iter().map(String::as_str).collect::<Vec<_>>()).await,
            &labels,
        );
        assert!((again - before).abs() < 1e-5);
    }

    #[tokio::test]
    async fn adapting_needs_two_labels() {
        let one_label = vec![("a".to_string(), 0), ("b".to_string(), 0)];
        let err = embedder()
            .adapt(&one_label, &AdaptOptions::default())
            .await
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(err.contains("at least two labels"), "{err}");
    }
}
