//! Rate limits per tenant and per user, counted in Redis so every replica
//! shares them: a fixed one-minute window per key.

use crate::auth::Principal;
use crate::error::ApiError;
use crate::state::AppState;

#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub per_user_per_minute: u32,
    pub per_tenant_per_minute: u32,
    pub max_text_chars: usize,
}

impl Limits {
    /// Counts one turn; refuses with 429 when a window is full.
    pub async fn check(&self, state: &AppState, principal: &Principal) -> Result<(), ApiError> {
        let window = chrono::Utc::now().timestamp() / 60;
        let prefix = &state.settings.redis_prefix;
        let subject = principal.subject_id();
        let user_key = format!("{prefix}rate:u:{subject}:{window}");
        let tenant_key = format!("{prefix}rate:t:{}:{window}", principal.tenant);
        let mut redis = state.redis.clone();
        let (user, tenant): (u32, u32) = redis::pipe()
            .incr(&user_key, 1)
            .expire(&user_key, 120)
            .ignore()
            .incr(&tenant_key, 1)
            .expire(&tenant_key, 120)
            .ignore()
            .query_async(&mut redis)
            .await
            .map_err(|e| ApiError::Unavailable(format!("Redis is unavailable: {e}")))?;
        if user > self.per_user_per_minute {
            return Err(ApiError::RateLimited(format!(
                "you may send {} messages a minute; wait a moment",
                self.per_user_per_minute
            )));
        }
        if tenant > self.per_tenant_per_minute {
            return Err(ApiError::RateLimited(format!(
                "your organisation may send {} messages a minute; wait a moment",
                self.per_tenant_per_minute
            )));
        }
        Ok(())
    }
}
