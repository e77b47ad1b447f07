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
/// `timeout_secs = N` (an attempt running longer fails),
/// `crate = path` (where `djrs_tasks` is, when it is renamed; found automatically otherwise,
/// including through the `djrs` umbrella).
/// See the `djrs_tasks` documentation for examples.
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
        } else {
            return Err(meta.error(
                "unknown task option: expected priority, queue_name, backend, takes_context, max_attempts, timeout_secs or crate",
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
    let sig = &func.sig;
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
    let max_attempts: u32 = match &options.max_attempts {
        Some(lit) => {
            let value: u32 = lit.base10_parse()?;
            if value == 0 {
                return Err(syn::Error::new(
                    lit.span(),
                    "max_attempts must be at least 1",
                ));
            }
            value
        }
        None => 0, // the crate's default
    };

    let timeout_secs: u64 = match &options.timeout_secs {
        Some(lit) => {
            let value: u64 = lit.base10_parse()?;
            if value == 0 {
                return Err(syn::Error::new(
                    lit.span(),
                    "timeout_secs must be at least 1",
                ));
            }
            value
        }
        None => 0,
    };

    // Arguments: an optional leading context, then the JSON-carried ones.
    let mut inputs = sig.inputs.iter();
    if options.takes_context && inputs.next().is_none() {
        return Err(syn::Error::new(
            sig.span(),
            "takes_context needs a first argument of type TaskContext",
        ));
    }
    let mut arg_names = Vec::new();
    let mut arg_types = Vec::new();
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
                arg_names.push(name);
                arg_types.push((*pat.ty).clone());
            }
        }
    }

    let vis = &func.vis;
    let name = &sig.ident;
    let name_str = name.to_string();
    let is_async = sig.asyncness.is_some();
    let struct_name = format_ident!("__djrs_task_{}", name);
    let inner_name = format_ident!("__djrs_task_fn_{}", name);
    let run_name = format_ident!("__djrs_task_run_{}", name);
    let output = match &sig.output {
        ReturnType::Default => quote!(()),
        ReturnType::Type(_, ty) => quote!(#ty),
    };
    let docs: Vec<&syn::Attribute> = func
        .attrs
        .iter()
        .filter(|a| a.path().is_ident("doc"))
        .collect();
    let other_attrs: Vec<&syn::Attribute> = func
        .attrs
        .iter()
        .filter(|a| !a.path().is_ident("doc"))
        .collect();

    let mut inner = func.clone();
    inner.sig.ident = inner_name.clone();
    inner.vis = syn::Visibility::Inherited;
    inner.attrs = other_attrs.into_iter().cloned().collect();
    // Task arguments arrive decoded from JSON, so they are owned whether or not the body
    // consumes them.
    inner
        .attrs
        .push(syn::parse_quote!(#[allow(clippy::needless_pass_by_value)]));

    let krate = match &options.krate {
        Some(path) => quote!(#path),
        None => tasks_crate(),
    };
    let queue_name = options
        .queue_name
        .as_ref()
        .map_or_else(|| quote!(#krate::DEFAULT_TASK_QUEUE_NAME), |q| quote!(#q));
    let backend = options.backend.as_ref().map_or_else(
        || quote!(#krate::DEFAULT_TASK_BACKEND_ALIAS),
        |b| quote!(#b),
    );
    let takes_context = options.takes_context;
    let priority_lit = syn::LitInt::new(&priority.to_string(), Span::call_site());

    let arg_tuple_type = quote!((#(#arg_types,)*));
    let ctx_param = if takes_context {
        quote!(ctx: #krate::TaskContext,)
    } else {
        quote!()
    };
    let ctx_arg = if takes_context {
        quote!(ctx,)
    } else {
        quote!()
    };
    let decode = if arg_names.is_empty() {
        quote! { let _ = args; }
    } else {
        quote! {
            let (#(#arg_names,)*): #arg_tuple_type = #krate::__private::decode_args(args)?;
        }
    };
    let run_body = if is_async {
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
    let (call_async, call_await) = if is_async {
        (quote!(async), quote!(.await))
    } else {
        (quote!(), quote!())
    };
    let unused_ctx = if takes_context {
        quote!()
    } else {
        quote!(let _ = ctx;)
    };

    Ok(quote! {
        #inner

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

        impl #krate::Task for #struct_name {
            fn options(&self) -> &#krate::TaskOptions {
                &self.options
            }

            fn options_mut(&mut self) -> &mut #krate::TaskOptions {
                &mut self.options
            }
        }

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
            )
        }
    })
}
