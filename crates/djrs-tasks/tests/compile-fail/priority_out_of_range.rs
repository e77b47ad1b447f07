#[djrs_tasks::task(priority = 101)]
async fn too_urgent() {}

fn main() {}
