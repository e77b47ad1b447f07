#[djrs_tasks::task]
async fn borrowed(name: &str) {
    let _ = name;
}

fn main() {}
