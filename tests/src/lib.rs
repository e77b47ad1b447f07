//! Workspace-level end-to-end tests: the showcase app driven through its router, checked
//! against the crates used directly through the `djrs` umbrella. The tests live in `tests/`.
