#[djrs_tasks::task]
async fn generic<T: serde::Serialize>(value: T) {
    let _ = value;
}

fn main() {}
