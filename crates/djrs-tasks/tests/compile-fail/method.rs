struct Mailer;

impl Mailer {
    #[djrs_tasks::task]
    async fn send(&self) {}
}

fn main() {}
