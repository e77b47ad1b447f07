//! What `#[task]` promises at compile time: each file in `tests/compile-fail/` must fail to
//! compile with the message beside it (`*.stderr`). Regenerate the messages after a deliberate
//! change with `TRYBUILD=overwrite cargo test -p djrs-tasks --test compile_fail`.

#[test]
fn the_task_attribute_refuses_what_cannot_work() {
    let cases = trybuild::TestCases::new();
    cases.compile_fail("tests/compile-fail/*.rs");
}
