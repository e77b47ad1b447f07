#[djrs_tasks::task(takes_context)]
async fn no_context() {}

fn main() {}
