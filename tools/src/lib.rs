//! Platform tools and approvals: the tool framework, discovery, connectors,
//! mapping approval and agents. Not built yet (issue 5); the crate holds the
//! place the architecture gives it in the workspace.
