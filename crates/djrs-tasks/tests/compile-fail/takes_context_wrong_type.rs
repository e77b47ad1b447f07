#[djrs_tasks::task(takes_context)]
async fn wrong_context(count: u32) {
    let _ = count;
}

fn main() {}
