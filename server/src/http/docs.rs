//! The OpenAPI document (`/api/openapi.json`) and its browsable page
//! (`/api/docs`), with Swagger UI's assets embedded in the binary.

use axum::Router;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_swagger_ui::SwaggerUi;

use crate::state::AppState;

#[derive(OpenApi)]
#[openapi(
    info(title = "AutonomOS Control Center API", description = "Conversational gateway for the AutonomOS data-orchestration platform."),
    paths(
        crate::http::health::healthz,
        crate::http::health::readyz,
        crate::auth::routes::login,
        crate::auth::routes::refresh,
        crate::auth::routes::logout,
        crate::auth::routes::me,
        crate::admin::users::list,
        crate::admin::users::create,
        crate::admin::users::read,
        crate::admin::users::change,
        crate::admin::users::remove,
        crate::admin::api_keys::list,
        crate::admin::api_keys::create,
        crate::admin::api_keys::revoke,
    ),
    modifiers(&BearerAuth),
    tags(
        (name = "auth", description = "Sign-in, sessions and the caller's identity"),
        (name = "admin", description = "Users and API keys of the caller's tenant (admin role)"),
        (name = "operations", description = "Health and readiness"),
    )
)]
pub struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(
                        "An access token from /api/v1/auth/login, or an API key (aos_…)",
                    ))
                    .build(),
            ),
        );
    }
}

pub fn router() -> Router<AppState> {
    Router::new().merge(SwaggerUi::new("/api/docs").url("/api/openapi.json", ApiDoc::openapi()))
}
