//! `#[derive(Record)]` for [djrs-orm-ext](https://docs.rs/djrs-orm-ext). Use it through
//! `djrs_orm_ext::Record`; the attributes are documented on that trait.

use proc_macro::TokenStream;
use proc_macro2::{Span, TokenStream as TokenStream2};
use quote::quote;
use syn::meta::ParseNestedMeta;
use syn::{
    Data, DataStruct, DeriveInput, Field, Fields, FieldsNamed, Ident, LitStr, Type,
    parse_macro_input,
};

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
    let named = named_fields(input)?;
    let table = table_name(input)?;
    let mut fields = named
        .named
        .iter()
        .map(parse_field)
        .filter_map(Result::transpose)
        .collect::<syn::Result<Vec<_>>>()?;
    settle_primary_key(&mut fields)?;
    resolve_fields(&mut fields)?;

    let krate = orm_ext_crate();
    let record = record_impl(&input.ident, &table, &fields, &krate);
    let returned_row = returned_row_impl(&input.ident, &fields, &krate);
    Ok(quote! {
        #record

        #returned_row
    })
}

/// The struct's named fields; generic structs, enums, unions and tuple structs are errors.
fn named_fields(input: &DeriveInput) -> syn::Result<&FieldsNamed> {
    if !input.generics.params.is_empty() {
        return Err(syn::Error::new_spanned(
            &input.generics,
            "#[derive(Record)] does not support generic structs",
        ));
    }
    match &input.data {
        Data::Struct(DataStruct {
            fields: Fields::Named(named),
            ..
        }) => Ok(named),
        _ => Err(syn::Error::new_spanned(
            &input.ident,
            "#[derive(Record)] needs a struct with named fields",
        )),
    }
}

/// `#[record(table = "…")]`, or the struct's name in snake case.
fn table_name(input: &DeriveInput) -> syn::Result<String> {
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
    Ok(table)
}

/// A field with its `#[record(…)]` attributes read; `None` for a field without a name.
fn parse_field(field: &Field) -> syn::Result<Option<FieldInfo>> {
    let Some(ident) = field.ident.clone() else {
        return Ok(None);
    };
    let mut column = ident.to_string();
    let mut kind = None;
    for attr in field.attrs.iter().filter(|a| a.path().is_ident("record")) {
        attr.parse_nested_meta(|meta| {
            if meta.path.is_ident("column") {
                column = meta.value()?.parse::<LitStr>()?.value();
            } else if meta.path.is_ident("primary_key") {
                kind = Some(parse_primary_key(&meta)?);
            } else if meta.path.is_ident("db_default") {
                kind = Some(Kind::DbDefault);
            } else if meta.path.is_ident("generated") {
                kind = Some(parse_generated(&meta)?);
            } else {
                return Err(meta.error(
                    "expected `column = \"…\"`, `primary_key`, `primary_key(auto)`, \
                     `db_default` or `generated(…)`",
                ));
            }
            Ok(())
        })?;
    }
    Ok(Some(FieldInfo {
        ident,
        column,
        ty: field.ty.clone(),
        kind: kind.unwrap_or(Kind::Field),
    }))
}

/// `primary_key` or `primary_key(auto)`.
fn parse_primary_key(meta: &ParseNestedMeta<'_>) -> syn::Result<Kind> {
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
    Ok(Kind::PrimaryKey { auto })
}

/// `generated` or `generated(field, …)`, with the names as written.
fn parse_generated(meta: &ParseNestedMeta<'_>) -> syn::Result<Kind> {
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
    Ok(Kind::Generated(depends))
}

/// Makes a plain `id` field the key when no field is marked (Django's implicit
/// `id = BigAutoField(primary_key=True)`), and checks there is exactly one key.
fn settle_primary_key(fields: &mut [FieldInfo]) -> syn::Result<()> {
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
    Ok(())
}

/// Field by field: maps `generated(field, …)` names to column names, checking they exist, and
/// checks that the fields the database fills in are `Option`s.
fn resolve_fields(fields: &mut [FieldInfo]) -> syn::Result<()> {
    let by_field: Vec<(String, String)> = fields
        .iter()
        .map(|f| (f.ident.to_string(), f.column.clone()))
        .collect();
    for field in fields {
        resolve_generated(field, &by_field)?;
        check_option(field)?;
    }
    Ok(())
}

fn resolve_generated(field: &mut FieldInfo, by_field: &[(String, String)]) -> syn::Result<()> {
    if let Kind::Generated(depends) = &mut field.kind {
        for name in depends.iter_mut() {
            let Some((_, column)) = by_field.iter().find(|(f, c)| f == name || c == name) else {
                return Err(syn::Error::new_spanned(
                    &field.ident,
                    format!("`generated({name})` names no field of this struct"),
                ));
            };
            *name = column.clone();
        }
    }
    Ok(())
}

fn check_option(field: &FieldInfo) -> syn::Result<()> {
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
    Ok(())
}

/// `impl Record`: the table, the columns, the key and the values to write.
fn record_impl(
    name: &Ident,
    table: &str,
    fields: &[FieldInfo],
    krate: &TokenStream2,
) -> TokenStream2 {
    let value = quote!(#krate::__private::sea_query::Value);
    let columns = fields.iter().map(|f| column(f, krate));
    let pk = fields
        .iter()
        .find(|f| matches!(f.kind, Kind::PrimaryKey { .. }))
        .map(|f| primary_key_value(f, &value));
    let value_arms = fields.iter().filter_map(|f| value_arm(f, &value));
    quote! {
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
    }
}

/// The field's `Column` constant.
fn column(f: &FieldInfo, krate: &TokenStream2) -> TokenStream2 {
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
}

/// The body of `primary_key`: the key field's value, `None` while an `Option` key is unset.
fn primary_key_value(f: &FieldInfo, value: &TokenStream2) -> TokenStream2 {
    let ident = &f.ident;
    if is_option(&f.ty) {
        quote!(::core::clone::Clone::clone(&self.#ident).map(#value::from))
    } else {
        quote!(::core::option::Option::Some(#value::from(
            ::core::clone::Clone::clone(&self.#ident)
        )))
    }
}

/// The arm of `value` for a field the application writes; `None` for the key and generated
/// fields.
fn value_arm(f: &FieldInfo, value: &TokenStream2) -> Option<TokenStream2> {
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
}

/// `impl ReturnedRow`: sets the columns a `RETURNING` clause read back.
fn returned_row_impl(name: &Ident, fields: &[FieldInfo], krate: &TokenStream2) -> TokenStream2 {
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
    quote! {
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
    }
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

    /// Expands `input` and checks that the output holds each of `expected`.
    fn check(input: &DeriveInput, expected: &[&str]) {
        let out = expand(input).unwrap().to_string();
        for part in expected {
            assert!(out.contains(part), "{part} not in {out}");
        }
    }

    #[test]
    fn the_field_id_is_a_big_auto_key() {
        check(
            &parse_quote! {
                struct BlogPost { id: Option<i64>, title: String }
            },
            &[
                r#"const TABLE : & 'static str = "blog_post""#,
                r#"Column :: primary_key ("id" , "id" , true)"#,
                r#"Column :: field ("title" , "title")"#,
            ],
        );
    }

    #[test]
    fn attributes_map_to_column_kinds() {
        check(
            &parse_quote! {
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
            },
            &[
                r#""posts""#,
                r#"Column :: primary_key ("key" , "key" , true)"#,
                r#"Column :: field ("headline" , "title")"#,
                r#"Column :: db_default ("views" , "views")"#,
                r#"Column :: generated ("score" , "score" , & ["headline" , "views"])"#,
            ],
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
