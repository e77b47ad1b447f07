//! `#[derive(Record)]` for [djrs-orm-ext](https://docs.rs/djrs-orm-ext). Use it through
//! `djrs_orm_ext::Record`; the attributes are documented on that trait.

use proc_macro::TokenStream;
use proc_macro2::{Span, TokenStream as TokenStream2};
use quote::quote;
use syn::{Data, DeriveInput, Fields, Ident, LitStr, Type, parse_macro_input};

/// Derives `djrs_orm_ext::Record` and `djrs_orm_ext::ReturnedRow` for a struct with named
/// fields.
///
/// ```
/// use djrs_orm_ext::Record;
///
/// #[derive(Record)]
/// #[record(table = "article")]
/// struct Article {
///     id: Option<i64>,
///     title: String,
///     #[record(generated(title))]
///     title_length: Option<i64>,
/// }
///
/// assert_eq!(Article::TABLE, "article");
/// assert_eq!(Article::COLUMNS.len(), 3);
/// ```
#[proc_macro_derive(Record, attributes(record))]
pub fn derive_record(input: TokenStream) -> TokenStream {
    let input = parse_macro_input!(input as DeriveInput);
    expand(&input)
        .unwrap_or_else(syn::Error::into_compile_error)
        .into()
}

enum Kind {
    PrimaryKey { auto: bool },
    Field,
    DbDefault,
    Generated(Vec<String>),
}

struct FieldInfo {
    ident: Ident,
    column: String,
    ty: Type,
    kind: Kind,
}

fn is_option(ty: &Type) -> bool {
    match ty {
        Type::Path(path) => path
            .path
            .segments
            .last()
            .is_some_and(|segment| segment.ident == "Option"),
        _ => false,
    }
}

fn snake_case(name: &str) -> String {
    let mut out = String::new();
    for (i, c) in name.chars().enumerate() {
        if c.is_uppercase() {
            if i > 0 {
                out.push('_');
            }
            out.extend(c.to_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

fn expand(input: &DeriveInput) -> syn::Result<TokenStream2> {
    if !input.generics.params.is_empty() {
        return Err(syn::Error::new_spanned(
            &input.generics,
            "#[derive(Record)] does not support generic structs",
        ));
    }
    let Data::Struct(data) = &input.data else {
        return Err(syn::Error::new_spanned(
            &input.ident,
            "#[derive(Record)] needs a struct with named fields",
        ));
    };
    let Fields::Named(named) = &data.fields else {
        return Err(syn::Error::new_spanned(
            &input.ident,
            "#[derive(Record)] needs a struct with named fields",
        ));
    };

    let mut table = snake_case(&input.ident.to_string());
    for attr in input.attrs.iter().filter(|a| a.path().is_ident("record")) {
        attr.parse_nested_meta(|meta| {
            if meta.path.is_ident("table") {
                table = meta.value()?.parse::<LitStr>()?.value();
                Ok(())
            } else {
                Err(meta.error("expected `table = \"…\"`"))
            }
        })?;
    }

    let mut fields = Vec::new();
    for field in &named.named {
        let Some(ident) = field.ident.clone() else {
            continue;
        };
        let mut column = ident.to_string();
        let mut kind = None;
        for attr in field.attrs.iter().filter(|a| a.path().is_ident("record")) {
            attr.parse_nested_meta(|meta| {
                if meta.path.is_ident("column") {
                    column = meta.value()?.parse::<LitStr>()?.value();
                } else if meta.path.is_ident("primary_key") {
                    let mut auto = false;
                    if meta.input.peek(syn::token::Paren) {
                        meta.parse_nested_meta(|inner| {
                            if inner.path.is_ident("auto") {
                                auto = true;
                                Ok(())
                            } else {
                                Err(inner.error("expected `auto`"))
                            }
                        })?;
                    }
                    kind = Some(Kind::PrimaryKey { auto });
                } else if meta.path.is_ident("db_default") {
                    kind = Some(Kind::DbDefault);
                } else if meta.path.is_ident("generated") {
                    let mut depends = Vec::new();
                    if meta.input.peek(syn::token::Paren) {
                        meta.parse_nested_meta(|inner| {
                            let name = inner
                                .path
                                .get_ident()
                                .ok_or_else(|| inner.error("expected a field name"))?;
                            depends.push(name.to_string());
                            Ok(())
                        })?;
                    }
                    kind = Some(Kind::Generated(depends));
                } else {
                    return Err(meta.error(
                        "expected `column = \"…\"`, `primary_key`, `primary_key(auto)`, \
                         `db_default` or `generated(…)`",
                    ));
                }
                Ok(())
            })?;
        }
        fields.push(FieldInfo {
            ident,
            column,
            ty: field.ty.clone(),
            kind: kind.unwrap_or(Kind::Field),
        });
    }

    // Django's implicit `id = BigAutoField(primary_key=True)`.
    if !fields
        .iter()
        .any(|f| matches!(f.kind, Kind::PrimaryKey { .. }))
    {
        match fields.iter_mut().find(|f| f.ident == "id") {
            Some(id) if matches!(id.kind, Kind::Field) => {
                id.kind = Kind::PrimaryKey { auto: true };
            }
            _ => {
                return Err(syn::Error::new(
                    Span::call_site(),
                    "#[derive(Record)] needs a primary key: a field `id: Option<i64>` (a 64-bit \
                     auto key, Django's BigAutoField) or a field marked #[record(primary_key)]",
                ));
            }
        }
    }
    if fields
        .iter()
        .filter(|f| matches!(f.kind, Kind::PrimaryKey { .. }))
        .count()
        > 1
    {
        return Err(syn::Error::new(
            Span::call_site(),
            "#[derive(Record)] supports one primary-key field",
        ));
    }
    // Map `generated(field, …)` names to column names, checking they exist.
    let by_field: Vec<(String, String)> = fields
        .iter()
        .map(|f| (f.ident.to_string(), f.column.clone()))
        .collect();
    for field in &mut fields {
        if let Kind::Generated(depends) = &mut field.kind {
            for name in depends.iter_mut() {
                let Some((_, column)) = by_field.iter().find(|(f, c)| f == name || c == name)
                else {
                    return Err(syn::Error::new_spanned(
                        &field.ident,
                        format!("`generated({name})` names no field of this struct"),
                    ));
                };
                *name = column.clone();
            }
        }
        let needs_option = match field.kind {
            Kind::PrimaryKey { auto } => auto,
            Kind::DbDefault => true,
            _ => false,
        };
        if needs_option && !is_option(&field.ty) {
            return Err(syn::Error::new_spanned(
                &field.ty,
                "an auto key or a db_default field must be an Option: None means \
                 \"let the database fill it in\"",
            ));
        }
    }

    let name = &input.ident;
    let krate = orm_ext_crate();
    let columns = fields.iter().map(|f| {
        let column = &f.column;
        let field = f.ident.to_string();
        match &f.kind {
            Kind::PrimaryKey { auto } => {
                quote!(#krate::Column::primary_key(#column, #field, #auto))
            }
            Kind::Field => quote!(#krate::Column::field(#column, #field)),
            Kind::DbDefault => quote!(#krate::Column::db_default(#column, #field)),
            Kind::Generated(depends) => {
                quote!(#krate::Column::generated(#column, #field, &[#(#depends),*]))
            }
        }
    });
    let value = quote!(#krate::__private::sea_query::Value);
    let pk = fields
        .iter()
        .find(|f| matches!(f.kind, Kind::PrimaryKey { .. }))
        .map(|f| {
            let ident = &f.ident;
            if is_option(&f.ty) {
                quote!(::core::clone::Clone::clone(&self.#ident).map(#value::from))
            } else {
                quote!(::core::option::Option::Some(#value::from(
                    ::core::clone::Clone::clone(&self.#ident)
                )))
            }
        });
    let value_arms = fields.iter().filter_map(|f| {
        let ident = &f.ident;
        let column = &f.column;
        match f.kind {
            Kind::Field => Some(quote! {
                #column => ::core::option::Option::Some(#value::from(
                    ::core::clone::Clone::clone(&self.#ident)
                )),
            }),
            Kind::DbDefault => Some(quote! {
                #column => ::core::clone::Clone::clone(&self.#ident).map(#value::from),
            }),
            Kind::PrimaryKey { .. } | Kind::Generated(_) => None,
        }
    });
    let set_arms = fields.iter().map(|f| {
        let ident = &f.ident;
        let column = &f.column;
        quote! {
            #column => self.#ident = #krate::__private::sqlx::Row::try_get(row, #column)?,
        }
    });
    let bounds = fields.iter().map(|f| {
        let ty = &f.ty;
        quote! {
            #ty: for<'__r> #krate::__private::sqlx::Decode<'__r, <__R as #krate::__private::sqlx::Row>::Database>
                + #krate::__private::sqlx::Type<<__R as #krate::__private::sqlx::Row>::Database>,
        }
    });

    Ok(quote! {
        impl #krate::Record for #name {
            const TABLE: &'static str = #table;
            const COLUMNS: &'static [#krate::Column] = &[#(#columns),*];

            fn primary_key(&self) -> ::core::option::Option<#value> {
                #pk
            }

            fn value(&self, column: &str) -> ::core::option::Option<#value> {
                match column {
                    #(#value_arms)*
                    _ => ::core::option::Option::None,
                }
            }
        }

        impl<__R: #krate::__private::sqlx::Row> #krate::ReturnedRow<__R> for #name
        where
            for<'__c> &'__c str: #krate::__private::sqlx::ColumnIndex<__R>,
            #(#bounds)*
        {
            fn set_returned(
                &mut self,
                row: &__R,
                columns: &[&'static str],
            ) -> ::core::result::Result<(), #krate::__private::sqlx::Error> {
                for column in columns {
                    match *column {
                        #(#set_arms)*
                        _ => {}
                    }
                }
                ::core::result::Result::Ok(())
            }
        }
    })
}

/// The path to `djrs_orm_ext` from the calling crate: its own dependency name, or the
/// umbrella's `djrs::orm_ext` when only `djrs` is a dependency.
fn orm_ext_crate() -> proc_macro2::TokenStream {
    use proc_macro_crate::{FoundCrate, crate_name};
    let ident = |name: &str| syn::Ident::new(name, proc_macro2::Span::call_site());
    match crate_name("djrs-orm-ext") {
        // Also reported for the crate's own tests and doc-tests, which see it under its name.
        Ok(FoundCrate::Itself) => quote!(::djrs_orm_ext),
        Ok(FoundCrate::Name(name)) => {
            let name = ident(&name);
            quote!(::#name)
        }
        Err(_) => match crate_name("djrs") {
            Ok(FoundCrate::Name(name)) => {
                let name = ident(&name);
                quote!(::#name::orm_ext)
            }
            _ => quote!(::djrs_orm_ext),
        },
    }
}

#[cfg(test)]
mod tests {
    use syn::parse_quote;

    use super::*;

    fn error(input: &DeriveInput) -> String {
        expand(input).unwrap_err().to_string()
    }

    #[test]
    fn the_field_id_is_a_big_auto_key() {
        let out = expand(&parse_quote! {
            struct BlogPost { id: Option<i64>, title: String }
        })
        .unwrap()
        .to_string();
        assert!(
            out.contains(r#"const TABLE : & 'static str = "blog_post""#),
            "{out}"
        );
        assert!(
            out.contains(r#"Column :: primary_key ("id" , "id" , true)"#),
            "{out}"
        );
        assert!(
            out.contains(r#"Column :: field ("title" , "title")"#),
            "{out}"
        );
    }

    #[test]
    fn attributes_map_to_column_kinds() {
        let out = expand(&parse_quote! {
            #[record(table = "posts")]
            struct Post {
                #[record(primary_key(auto))]
                key: Option<i64>,
                #[record(column = "headline")]
                title: String,
                #[record(db_default)]
                views: Option<i64>,
                #[record(generated(title, views))]
                score: Option<i64>,
            }
        })
        .unwrap()
        .to_string();
        assert!(out.contains(r#""posts""#), "{out}");
        assert!(
            out.contains(r#"Column :: primary_key ("key" , "key" , true)"#),
            "{out}"
        );
        assert!(
            out.contains(r#"Column :: field ("headline" , "title")"#),
            "{out}"
        );
        assert!(
            out.contains(r#"Column :: db_default ("views" , "views")"#),
            "{out}"
        );
        assert!(
            out.contains(r#"Column :: generated ("score" , "score" , & ["headline" , "views"])"#),
            "{out}"
        );
    }

    #[test]
    fn mistakes_are_compile_errors() {
        assert!(
            error(&parse_quote! { struct NoKey { title: String } }).contains("needs a primary key")
        );
        assert!(
            error(&parse_quote! {
                struct TwoKeys { #[record(primary_key)] a: String, #[record(primary_key)] b: String }
            })
            .contains("one primary-key field")
        );
        assert!(
            error(&parse_quote! { struct NotOption { id: i64 } }).contains("must be an Option")
        );
        assert!(
            error(&parse_quote! {
                struct Defaults { id: Option<i64>, #[record(db_default)] views: i64 }
            })
            .contains("must be an Option")
        );
        assert!(
            error(&parse_quote! {
                struct Unknown { id: Option<i64>, #[record(generated(nope))] g: Option<i64> }
            })
            .contains("`generated(nope)` names no field")
        );
        assert!(
            error(&parse_quote! { struct Bad { id: Option<i64>, #[record(typo)] x: i64 } })
                .contains("expected `column")
        );
        assert!(error(&parse_quote! { struct Tuple(i64); }).contains("named fields"));
        assert!(error(&parse_quote! { enum E { A } }).contains("named fields"));
        assert!(
            error(&parse_quote! { struct G<T> { id: Option<i64>, t: T } })
                .contains("generic structs")
        );
    }
}
