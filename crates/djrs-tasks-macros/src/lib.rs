//! The `#[task]` attribute of [djrs-tasks](https://docs.rs/djrs-tasks): turns a function into a
//! task that can be enqueued, found by name in a worker, and called inline.
//!
//! Use it through `djrs_tasks::task`; this crate has no other public items.

use proc_macro::TokenStream;
use proc_macro2::{Span, TokenStream as TokenStream2};
use quote::{format_ident, quote};
use syn::parse::Parser;
use syn::spanned::Spanned;
use syn::{FnArg, ItemFn, LitInt, LitStr, Pat, ReturnType, Type};

/// Django's `@task` decorator: makes `name.enqueue(&tasks, args…)`, `name.call(args…)`,
/// `name.using().priority(…)` and registers the task under its stable name, the function's
/// module path and name.
///
/// Options (all optional): `priority = N` (−100..=100), `queue_name = "…"`, `backend = "…"`,
/// `takes_context` (the first argument is a `TaskContext`), `max_attempts = N` (retries, ≥ 1),
/// `timeout_secs = N` (an attempt running longer fails), `backoff = EXPR` (the retry delays, a
/// `const` expression of type `djrs_tasks::Backoff`; the worker's by default),
/// `crate = path` (where `djrs_tasks` is, when it is renamed; found automatically otherwise,
/// including through the `djrs` umbrella).
/// See the `djrs_tasks` documentation for more.
///
/// ```
/// use djrs_tasks::{Tasks, task};
///
/// #[task(priority = 10, max_attempts = 2)]
/// fn add(a: i32, b: i32) -> i32 {
///     a + b
/// }
///
/// // Called inline, it is the function; enqueued, it runs on the task system's backend.
/// assert_eq!(add.call(2, 3), 5);
/// # tokio_test::block_on(async {
/// let tasks = Tasks::default(); // Django's default: the immediate backend
/// let result = add.enqueue(&tasks, 2, 3).await?;
/// assert_eq!(result.return_value::<i32>()?, 5);
/// assert_eq!((result.priority, result.max_attempts), (10, 2));
/// assert!(result.task_name.ends_with("::add"));
/// # Ok::<(), djrs_tasks::Error>(())
/// # }).unwrap();
/// ```
#[proc_macro_attribute]
pub fn task(attr: TokenStream, item: TokenStream) -> TokenStream {
    match expand(attr.into(), item.into()) {
        Ok(tokens) => tokens.into(),
        Err(err) => err.to_compile_error().into(),
    }
}

#[derive(Default)]
struct Options {
    krate: Option<syn::Path>,
    priority: Option<LitInt>,
    queue_name: Option<LitStr>,
    backend: Option<LitStr>,
    takes_context: bool,
    max_attempts: Option<LitInt>,
    timeout_secs: Option<LitInt>,
    backoff: Option<syn::Expr>,
}

fn parse_options(attr: TokenStream2) -> syn::Result<Options> {
    let mut options = Options::default();
    let parser = syn::meta::parser(|meta| {
        if meta.path.is_ident("priority") {
            let lit: syn::Expr = meta.value()?.parse()?;
            options.priority = Some(int_literal(&lit)?);
        } else if meta.path.is_ident("queue_name") {
            options.queue_name = Some(meta.value()?.parse()?);
        } else if meta.path.is_ident("backend") {
            options.backend = Some(meta.value()?.parse()?);
        } else if meta.path.is_ident("takes_context") {
            options.takes_context = true;
        } else if meta.path.is_ident("crate") {
            options.krate = Some(meta.value()?.parse()?);
        } else if meta.path.is_ident("max_attempts") {
            options.max_attempts = Some(meta.value()?.parse()?);
        } else if meta.path.is_ident("timeout_secs") {
            options.timeout_secs = Some(meta.value()?.parse()?);
        } else if meta.path.is_ident("backoff") {
            options.backoff = Some(meta.value()?.parse()?);
        } else {
            return Err(meta.error(
                "unknown task option: expected priority, queue_name, backend, takes_context, max_attempts, timeout_secs, backoff or crate",
            ));
        }
        Ok(())
    });
    parser.parse2(attr)?;
    Ok(options)
}

/// Accepts `5` and `-5` as integer literals (a negative number is a unary expression).
fn int_literal(expr: &syn::Expr) -> syn::Result<LitInt> {
    match expr {
        syn::Expr::Lit(syn::ExprLit {
            lit: syn::Lit::Int(lit),
            ..
        }) => Ok(lit.clone()),
        syn::Expr::Unary(syn::ExprUnary {
            op: syn::UnOp::Neg(_),
            expr,
            ..
        }) => {
            let inner = int_literal(expr)?;
            Ok(LitInt::new(
                &format!("-{}", inner.base10_digits()),
                inner.span(),
            ))
        }
        other => Err(syn::Error::new(other.span(), "expected an integer literal")),
    }
}

/// The path to `djrs_tasks` from the calling crate: its own dependency name, or the umbrella's
/// `djrs::tasks` when only `djrs` is a dependency.
fn tasks_crate() -> TokenStream2 {
    use proc_macro_crate::{FoundCrate, crate_name};
    match crate_name("djrs-tasks") {
        // `Itself` is also reported for the crate's own tests and doc-tests, which see the
        // library under its name; the library itself defines no task.
        Ok(FoundCrate::Itself) => quote!(::djrs_tasks),
        Ok(FoundCrate::Name(name)) => {
            let ident = format_ident!("{}", name);
            quote!(::#ident)
        }
        Err(_) => match crate_name("djrs") {
            Ok(FoundCrate::Name(name)) => {
                let ident = format_ident!("{}", name);
                quote!(::#ident::tasks)
            }
            _ => quote!(::djrs_tasks),
        },
    }
}

fn expand(attr: TokenStream2, item: TokenStream2) -> syn::Result<TokenStream2> {
    let options = parse_options(attr)?;
    let func: ItemFn = syn::parse2(item)?;
    check_signature(&func.sig)?;
    let checked = check_options(&options)?;
    let args = json_args(&func.sig, options.takes_context)?;
    let task = TaskItems::new(&func, &options, args);

    let inner = task.inner_fn();
    let handle = task.handle(&options, &checked);
    let methods = task.methods();
    let task_impl = task.task_impl();
    let registration = task.registration();
    Ok(quote! {
        #inner

        #handle

        #methods

        #task_impl

        #registration
    })
}

/// Rejects the signatures a task cannot have: generic or variadic functions.
fn check_signature(sig: &syn::Signature) -> syn::Result<()> {
    if !sig.generics.params.is_empty() || sig.generics.where_clause.is_some() {
        return Err(syn::Error::new(
            sig.generics.span(),
            "a task cannot be generic: its arguments travel as JSON and a worker finds it by name",
        ));
    }
    if let Some(variadic) = &sig.variadic {
        return Err(syn::Error::new(
            variadic.span(),
            "a task cannot be variadic",
        ));
    }
    Ok(())
}

/// The numeric options, checked; 0 stands for the crate's default where an option is absent.
struct Checked {
    priority: i64,
    max_attempts: u32,
    timeout_secs: u64,
}

fn check_options(options: &Options) -> syn::Result<Checked> {
    let priority: i64 = match &options.priority {
        Some(lit) => {
            let value: i64 = lit.base10_parse()?;
            if !(-100..=100).contains(&value) {
                return Err(syn::Error::new(
                    lit.span(),
                    "priority must be between -100 and 100 (TASK_MIN_PRIORITY..=TASK_MAX_PRIORITY)",
                ));
            }
            value
        }
        None => 0,
    };
    Ok(Checked {
        priority,
        max_attempts: at_least_one(options.max_attempts.as_ref(), "max_attempts")?,
        timeout_secs: at_least_one(options.timeout_secs.as_ref(), "timeout_secs")?,
    })
}

/// The value of an option that must be at least 1, or 0 (the crate's default) when absent.
fn at_least_one<N>(lit: Option<&LitInt>, option: &str) -> syn::Result<N>
where
    N: std::str::FromStr + Default + PartialEq,
    N::Err: std::fmt::Display,
{
    let Some(lit) = lit else {
        return Ok(N::default());
    };
    let value: N = lit.base10_parse()?;
    if value == N::default() {
        return Err(syn::Error::new(
            lit.span(),
            format!("{option} must be at least 1"),
        ));
    }
    Ok(value)
}

/// The arguments that travel as JSON: every argument after the optional leading context.
struct JsonArgs {
    names: Vec<syn::Ident>,
    types: Vec<Type>,
}

fn json_args(sig: &syn::Signature, takes_context: bool) -> syn::Result<JsonArgs> {
    let mut inputs = sig.inputs.iter();
    if takes_context && inputs.next().is_none() {
        return Err(syn::Error::new(
            sig.span(),
            "takes_context needs a first argument of type TaskContext",
        ));
    }
    let mut args = JsonArgs {
        names: Vec::new(),
        types: Vec::new(),
    };
    for (i, input) in inputs.enumerate() {
        match input {
            FnArg::Receiver(r) => {
                return Err(syn::Error::new(
                    r.span(),
                    "a task must be a free function, not a method",
                ));
            }
            FnArg::Typed(pat) => {
                let name = match &*pat.pat {
                    Pat::Ident(ident) => ident.ident.clone(),
                    _ => format_ident!("arg{}", i),
                };
                if let Type::Reference(r) = &*pat.ty {
                    return Err(syn::Error::new(
                        r.span(),
                        "task arguments travel as JSON and must be owned values (use String, Vec<T>, …)",
                    ));
                }
                args.names.push(name);
                args.types.push((*pat.ty).clone());
            }
        }
    }
    Ok(args)
}

/// What the generated items share: the checked function, its names and the path to
/// `djrs_tasks`.
struct TaskItems<'a> {
    func: &'a ItemFn,
    args: JsonArgs,
    krate: TokenStream2,
    takes_context: bool,
    is_async: bool,
    /// The task's retry policy, a `const` expression of type `Backoff`.
    backoff: Option<syn::Expr>,
    /// The hidden struct whose constant takes the function's name.
    struct_name: syn::Ident,
    /// The function itself, renamed.
    inner_name: syn::Ident,
    /// The function a worker calls with JSON arguments.
    run_name: syn::Ident,
}

impl<'a> TaskItems<'a> {
    fn new(func: &'a ItemFn, options: &Options, args: JsonArgs) -> Self {
        let name = &func.sig.ident;
        let krate = match &options.krate {
            Some(path) => quote!(#path),
            None => tasks_crate(),
        };
        TaskItems {
            func,
            args,
            krate,
            takes_context: options.takes_context,
            is_async: func.sig.asyncness.is_some(),
            backoff: options.backoff.clone(),
            struct_name: format_ident!("__djrs_task_{}", name),
            inner_name: format_ident!("__djrs_task_fn_{}", name),
            run_name: format_ident!("__djrs_task_run_{}", name),
        }
    }

    /// The function as written, renamed and private, without its doc comments (they go on the
    /// constant).
    fn inner_fn(&self) -> ItemFn {
        let mut inner = self.func.clone();
        inner.sig.ident = self.inner_name.clone();
        inner.vis = syn::Visibility::Inherited;
        inner.attrs = self
            .func
            .attrs
            .iter()
            .filter(|a| !a.path().is_ident("doc"))
            .cloned()
            .collect();
        // Task arguments arrive decoded from JSON, so they are owned whether or not the body
        // consumes them.
        inner
            .attrs
            .push(syn::parse_quote!(#[allow(clippy::needless_pass_by_value)]));
        inner
    }

    /// The hidden struct and the constant named after the function, holding its options.
    fn handle(&self, options: &Options, checked: &Checked) -> TokenStream2 {
        let Self {
            krate, struct_name, ..
        } = self;
        let vis = &self.func.vis;
        let name = &self.func.sig.ident;
        let name_str = name.to_string();
        let docs = self.func.attrs.iter().filter(|a| a.path().is_ident("doc"));
        let queue_name = options
            .queue_name
            .as_ref()
            .map_or_else(|| quote!(#krate::DEFAULT_TASK_QUEUE_NAME), |q| quote!(#q));
        let backend = options.backend.as_ref().map_or_else(
            || quote!(#krate::DEFAULT_TASK_BACKEND_ALIAS),
            |b| quote!(#b),
        );
        let takes_context = self.takes_context;
        let priority_lit = syn::LitInt::new(&checked.priority.to_string(), Span::call_site());
        let max_attempts = checked.max_attempts;
        let timeout_secs = checked.timeout_secs;
        quote! {
            #[doc(hidden)]
            #[allow(non_camel_case_types)]
            #[derive(Debug, Clone)]
            #vis struct #struct_name {
                options: #krate::TaskOptions,
            }

            #(#docs)*
            #[allow(non_upper_case_globals)]
            #vis const #name: #struct_name = #struct_name {
                options: #krate::TaskOptions::from_attribute(
                    ::core::concat!(::core::module_path!(), "::", #name_str),
                    #priority_lit,
                    #queue_name,
                    #backend,
                    #max_attempts,
                    #takes_context,
                    #timeout_secs,
                ),
            };
        }
    }

    /// `enqueue`, `enqueue_in`, `prepare` and `call` on the hidden struct.
    fn methods(&self) -> TokenStream2 {
        let Self {
            krate,
            struct_name,
            inner_name,
            ..
        } = self;
        let arg_names = &self.args.names;
        let arg_types = &self.args.types;
        let arg_tuple_type = self.arg_tuple_type();
        let output = match &self.func.sig.output {
            ReturnType::Default => quote!(()),
            ReturnType::Type(_, ty) => quote!(#ty),
        };
        let ctx_param = if self.takes_context {
            quote!(ctx: #krate::TaskContext,)
        } else {
            quote!()
        };
        let ctx_arg = self.ctx_arg();
        let (call_async, call_await) = if self.is_async {
            (quote!(async), quote!(.await))
        } else {
            (quote!(), quote!())
        };
        quote! {
            impl #struct_name {
                /// Enqueues the task with these arguments on its backend (Django's `Task.enqueue`).
                ///
                /// # Errors
                /// `InvalidTask` when the arguments do not round-trip through JSON or an option is
                /// invalid for the backend; the backend's error when it cannot store the task.
                #[allow(clippy::too_many_arguments)]
                pub async fn enqueue(&self, tasks: &#krate::Tasks, #(#arg_names: #arg_types),*) -> #krate::Result<#krate::TaskResult> {
                    let args = #krate::__private::encode_args::<#arg_tuple_type>(&(#(#arg_names,)*))?;
                    tasks.enqueue_json(&self.options, args).await
                }

                /// Enqueues the task on the caller's connection, inside its transaction
                /// (`&mut *tx` for a `sqlx::Transaction` on PostgreSQL): the task exists if and only
                /// if the transaction commits.
                ///
                /// # Errors
                /// As `enqueue`, and `InvalidTask` when the task's backend is not a PostgresBackend.
                #[allow(clippy::too_many_arguments)]
                pub async fn enqueue_in<C: #krate::EnqueueIn>(&self, conn: C, tasks: &#krate::Tasks, #(#arg_names: #arg_types),*) -> #krate::Result<#krate::TaskResult> {
                    let args = #krate::__private::encode_args::<#arg_tuple_type>(&(#(#arg_names,)*))?;
                    conn.enqueue_in(tasks, &self.options, args).await
                }

                /// The arguments encoded as the JSON a backend stores, checked to round-trip; for
                /// batch and transactional enqueue.
                ///
                /// # Errors
                /// `InvalidTask` when the arguments do not round-trip through JSON.
                #[allow(clippy::too_many_arguments)]
                pub fn prepare(&self, #(#arg_names: #arg_types),*) -> #krate::Result<#krate::PreparedTask> {
                    let args = #krate::__private::encode_args::<#arg_tuple_type>(&(#(#arg_names,)*))?;
                    ::core::result::Result::Ok(#krate::PreparedTask::new(self.options.clone(), args))
                }

                /// Runs the function inline, in this process (Django's `Task.call`).
                #[allow(clippy::too_many_arguments)]
                pub #call_async fn call(&self, #ctx_param #(#arg_names: #arg_types),*) -> #output {
                    #inner_name(#ctx_arg #(#arg_names),*) #call_await
                }
            }
        }
    }

    /// `impl Task` for the hidden struct.
    fn task_impl(&self) -> TokenStream2 {
        let Self {
            krate, struct_name, ..
        } = self;
        quote! {
            impl #krate::Task for #struct_name {
                fn options(&self) -> &#krate::TaskOptions {
                    &self.options
                }

                fn options_mut(&mut self) -> &mut #krate::TaskOptions {
                    &mut self.options
                }
            }
        }
    }

    /// The function a worker calls with the stored JSON arguments, and its registration under
    /// the task's name.
    fn registration(&self) -> TokenStream2 {
        let Self {
            krate,
            inner_name,
            run_name,
            ..
        } = self;
        let name_str = self.func.sig.ident.to_string();
        let with_backoff = self
            .backoff
            .as_ref()
            .map(|backoff| quote!(.with_backoff(#backoff)));
        let arg_names = &self.args.names;
        let arg_tuple_type = self.arg_tuple_type();
        let ctx_arg = self.ctx_arg();
        let decode = if arg_names.is_empty() {
            quote! { let _ = args; }
        } else {
            quote! {
                let (#(#arg_names,)*): #arg_tuple_type = #krate::__private::decode_args(args)?;
            }
        };
        let run_body = if self.is_async {
            quote! {
                #decode
                let out = #inner_name(#ctx_arg #(#arg_names),*).await;
                #krate::TaskOutput::into_task_output(out)
            }
        } else {
            quote! {
                #decode
                #krate::__private::run_blocking(move || #krate::TaskOutput::into_task_output(#inner_name(#ctx_arg #(#arg_names),*))).await
            }
        };
        let unused_ctx = if self.takes_context {
            quote!()
        } else {
            quote!(let _ = ctx;)
        };
        quote! {
            fn #run_name(ctx: #krate::TaskContext, args: #krate::__private::Value)
                -> #krate::__private::BoxFuture<'static, ::core::result::Result<#krate::__private::Value, #krate::TaskError>>
            {
                #unused_ctx
                ::std::boxed::Box::pin(async move { #run_body })
            }

            #krate::__private::inventory::submit! {
                #krate::__private::Registration::new(
                    ::core::concat!(::core::module_path!(), "::", #name_str),
                    #run_name,
                )#with_backoff
            }
        }
    }

    /// The JSON arguments as one tuple type.
    fn arg_tuple_type(&self) -> TokenStream2 {
        let arg_types = &self.args.types;
        quote!((#(#arg_types,)*))
    }

    /// `ctx,` when the function takes the context first.
    fn ctx_arg(&self) -> TokenStream2 {
        if self.takes_context {
            quote!(ctx,)
        } else {
            quote!()
        }
    }
}
