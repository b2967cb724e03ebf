//! [`LlmStream`]: the rest of an answer once its first token has arrived,
//! with the stall and total time limits applied to every chunk.

use std::collections::VecDeque;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use async_openai::error::OpenAIError;
use futures::{Stream, StreamExt};
use tokio::time::Instant;

use super::breaker::CircuitBreaker;
use super::decode::Decoder;
use super::transport::Failure;
use super::wire::Chunk;
use super::{LlmDelta, LlmError};

/// The chunks async-openai parses from the server-sent events.
pub(crate) type ChunkStream = Pin<Box<dyn Stream<Item = Result<Chunk, OpenAIError>> + Send>>;

/// An answer being streamed. Ends after [`LlmDelta::Finish`], or after the
/// one error that cut it short. Dropping it closes the upstream connection,
/// which is how a model server learns to stop generating.
pub struct LlmStream {
    inner: Pin<Box<dyn Stream<Item = Result<LlmDelta, LlmError>> + Send>>,
}

impl std::fmt::Debug for LlmStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LlmStream").finish_non_exhaustive()
    }
}

impl Stream for LlmStream {
    type Item = Result<LlmDelta, LlmError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.inner.as_mut().poll_next(cx)
    }
}

/// One attempt's upstream and what has been read from it so far.
pub(crate) struct Attempt {
    upstream: ChunkStream,
    decoder: Decoder,
    pending: VecDeque<LlmDelta>,
    ended: bool,
}

impl Attempt {
    pub fn new(upstream: ChunkStream) -> Self {
        Self {
            upstream,
            decoder: Decoder::default(),
            pending: VecDeque::new(),
            ended: false,
        }
    }

    /// Reads until the model has begun answering (or has finished). The
    /// caller bounds this with the first-token timeout.
    pub async fn wait_for_first_token(&mut self) -> Result<(), Failure> {
        while !self.decoder.started() {
            self.read_one().await?;
            if self.ended {
                break;
            }
        }
        Ok(())
    }

    async fn read_one(&mut self) -> Result<(), Failure> {
        match self.upstream.next().await {
            Some(Ok(chunk)) => self.decoder.push(chunk, &mut self.pending)?,
            Some(Err(e)) => return Err(e.into()),
            None => {
                self.ended = true;
                self.decoder.end(&mut self.pending)?;
            }
        }
        Ok(())
    }

    /// The caller's stream: what is queued, then the rest of the upstream.
    /// `stall` bounds the silence between two chunks, `deadline` the whole
    /// answer; a failure after the first token is reported to the breaker.
    pub fn into_stream(
        self,
        stall: Duration,
        deadline: Instant,
        breaker: Arc<CircuitBreaker>,
    ) -> LlmStream {
        let state = Running {
            attempt: self,
            stall,
            deadline,
            breaker,
            failed: false,
        };
        LlmStream {
            inner: Box::pin(futures::stream::unfold(state, Running::next)),
        }
    }
}

struct Running {
    attempt: Attempt,
    stall: Duration,
    deadline: Instant,
    breaker: Arc<CircuitBreaker>,
    failed: bool,
}

impl Running {
    async fn next(mut self) -> Option<(Result<LlmDelta, LlmError>, Self)> {
        loop {
            if let Some(delta) = self.attempt.pending.pop_front() {
                return Some((Ok(delta), self));
            }
            if self.attempt.ended || self.failed {
                return None;
            }
            let limit = self.deadline.min(Instant::now() + self.stall);
            let read = tokio::time::timeout_at(limit, self.attempt.read_one()).await;
            let error = match read {
                Ok(Ok(())) => continue,
                Ok(Err(failure)) => failure.error,
                Err(_elapsed) => LlmError::Timeout,
            };
            self.failed = true;
            if error.is_upstream_failure() {
                self.breaker.record_late_failure(std::time::Instant::now());
            }
            tracing::warn!(%error, "the LLM stream failed after its first token");
            return Some((Err(error), self));
        }
    }
}
