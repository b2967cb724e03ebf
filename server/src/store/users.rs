//! Users of a tenant: email, password hash, role and profile.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::{StoreError, TenantTx};
use crate::domain::{Email, InvalidValue, Persona, Role};

/// A user as the API shows it (never the password hash).
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct User {
    pub id: Uuid,
    pub tenant_id: Uuid,
    pub email: String,
    pub role: Role,
    pub display_name: Option<String>,
    /// cto, cro, coo or cfo.
    #[schema(value_type = Option<String>)]
    pub persona: Option<Persona>,
    pub disabled: bool,
    pub created_at: DateTime<Utc>,
}

#[derive(sqlx::FromRow)]
struct UserRow {
    id: Uuid,
    tenant_id: Uuid,
    email: String,
    role: String,
    display_name: Option<String>,
    persona: Option<String>,
    disabled: bool,
    created_at: DateTime<Utc>,
    password_hash: String,
}

impl UserRow {
    fn into_user(self) -> Result<(User, String), StoreError> {
        let corrupt = |e: InvalidValue| StoreError::Database(sqlx::Error::Decode(e.0.into()));
        let user = User {
            id: self.id,
            tenant_id: self.tenant_id,
            email: self.email,
            role: self.role.parse::<Role>().map_err(|e| corrupt(e.into()))?,
            display_name: self.display_name,
            persona: self
                .persona
                .map(|p| p.parse::<Persona>())
                .transpose()
                .map_err(|e| corrupt(InvalidValue(e.to_string())))?,
            disabled: self.disabled,
            created_at: self.created_at,
        };
        Ok((user, self.password_hash))
    }
}

macro_rules! user_columns {
    () => {
        "id, tenant_id, email, role, display_name, persona, disabled, created_at, password_hash"
    };
}

/// What a new user is made of.
pub struct NewUser<'a> {
    pub email: &'a Email,
    pub password_hash: &'a str,
    pub role: Role,
    pub display_name: Option<&'a str>,
    pub persona: Option<Persona>,
}

pub async fn create(tx: &mut TenantTx, new: NewUser<'_>) -> Result<User, StoreError> {
    let row: UserRow = sqlx::query_as(concat!(
        "insert into users (id, tenant_id, email, password_hash, role, display_name, persona)
         values ($1, app_current_tenant(), $2, $3, $4, $5, $6) returning ",
        user_columns!()
    ))
    .bind(Uuid::new_v4())
    .bind(new.email.as_str())
    .bind(new.password_hash)
    .bind(new.role.as_str())
    .bind(new.display_name)
    .bind(new.persona.map(Persona::as_str))
    .fetch_one(&mut **tx)
    .await
    .map_err(StoreError::from_write)?;
    Ok(row.into_user()?.0)
}

pub async fn get(tx: &mut TenantTx, id: Uuid) -> Result<User, StoreError> {
    let row: Option<UserRow> = sqlx::query_as(concat!(
        "select ",
        user_columns!(),
        " from users where id = $1"
    ))
    .bind(id)
    .fetch_optional(&mut **tx)
    .await?;
    Ok(row.ok_or(StoreError::NotFound("user"))?.into_user()?.0)
}

/// The user with this email and their password hash, for sign-in.
pub async fn find_for_login(
    tx: &mut TenantTx,
    email: &Email,
) -> Result<Option<(User, String)>, StoreError> {
    let row: Option<UserRow> = sqlx::query_as(concat!(
        "select ",
        user_columns!(),
        " from users where email = $1"
    ))
    .bind(email.as_str())
    .fetch_optional(&mut **tx)
    .await?;
    row.map(UserRow::into_user).transpose()
}

pub async fn list(tx: &mut TenantTx, limit: i64, offset: i64) -> Result<Vec<User>, StoreError> {
    let rows: Vec<UserRow> = sqlx::query_as(concat!(
        "select ",
        user_columns!(),
        " from users order by created_at, id limit $1 offset $2"
    ))
    .bind(limit)
    .bind(offset)
    .fetch_all(&mut **tx)
    .await?;
    rows.into_iter()
        .map(|row| row.into_user().map(|(user, _)| user))
        .collect()
}

/// Fields an administrator may change; `None` leaves a field as it is.
#[derive(Default)]
pub struct UserChanges<'a> {
    pub role: Option<Role>,
    pub display_name: Option<&'a str>,
    pub persona: Option<Option<Persona>>,
    pub disabled: Option<bool>,
    pub password_hash: Option<&'a str>,
}

pub async fn update(
    tx: &mut TenantTx,
    id: Uuid,
    changes: UserChanges<'_>,
) -> Result<User, StoreError> {
    let row: Option<UserRow> = sqlx::query_as(concat!(
        "update users set
            role = coalesce($2, role),
            display_name = coalesce($3, display_name),
            persona = case when $4 then $5 else persona end,
            disabled = coalesce($6, disabled),
            password_hash = coalesce($7, password_hash),
            updated_at = now()
         where id = $1 returning ",
        user_columns!()
    ))
    .bind(id)
    .bind(changes.role.map(Role::as_str))
    .bind(changes.display_name)
    .bind(changes.persona.is_some())
    .bind(changes.persona.flatten().map(Persona::as_str))
    .bind(changes.disabled)
    .bind(changes.password_hash)
    .fetch_optional(&mut **tx)
    .await?;
    Ok(row.ok_or(StoreError::NotFound("user"))?.into_user()?.0)
}

pub async fn delete(tx: &mut TenantTx, id: Uuid) -> Result<(), StoreError> {
    let done = sqlx::query("delete from users where id = $1")
        .bind(id)
        .execute(&mut **tx)
        .await?;
    if done.rows_affected() == 0 {
        return Err(StoreError::NotFound("user"));
    }
    Ok(())
}

/// How many active administrators the tenant has; the last one may not be removed.
pub async fn count_active_admins(tx: &mut TenantTx) -> Result<i64, StoreError> {
    let (count,): (i64,) =
        sqlx::query_as("select count(*) from users where role = 'admin' and not disabled")
            .fetch_one(&mut **tx)
            .await?;
    Ok(count)
}

/// A user's current role and whether they are disabled, for authorising a request.
pub async fn access(tx: &mut TenantTx, id: Uuid) -> Result<Option<(Role, bool)>, StoreError> {
    let row: Option<(String, bool)> =
        sqlx::query_as("select role, disabled from users where id = $1")
            .bind(id)
            .fetch_optional(&mut **tx)
            .await?;
    row.map(|(role, disabled)| {
        role.parse::<Role>()
            .map(|role| (role, disabled))
            .map_err(|e| StoreError::Database(sqlx::Error::Decode(e.0.into())))
    })
    .transpose()
}
