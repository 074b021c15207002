//! `GetParametersByPath` and `DescribeParameters`: walking a region's parameters with
//! hierarchy paths and filters, in pages.

use std::collections::HashMap;

use bosun_core::paging;
use bosun_core::parameters::filters::{self, Operation, StringFilter, View};
use bosun_core::parameters::name;
use bosun_core::validate::Validation;
use bosun_store::ParameterVersion;
use serde::Deserialize;
use serde_json::{json, Value};

use super::parameters::{rejection, render, render_metadata, Decrypter};
use super::{parse, Ctx};
use crate::api::error::ApiError;

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct WireFilter {
    key: Option<String>,
    option: Option<String>,
    values: Option<Vec<String>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct SearchRequest {
    path: Option<String>,
    recursive: Option<bool>,
    parameter_filters: Option<Vec<WireFilter>>,
    filters: Option<Vec<WireFilter>>,
    with_decryption: Option<bool>,
    max_results: Option<i64>,
    next_token: Option<String>,
    #[allow(dead_code)]
    shared: Option<bool>,
}

fn string_filters(v: &mut Validation, list: &[WireFilter]) -> Vec<StringFilter> {
    for (i, f) in list.iter().enumerate() {
        let field = format!("parameterFilters.{}.member.key", i + 1);
        v.required(&field, f.key.as_ref());
        v.length(&field, f.key.as_deref(), 1, 132);
        v.length(
            &format!("parameterFilters.{}.member.option", i + 1),
            f.option.as_deref(),
            1,
            10,
        );
        v.list_length(
            &format!("parameterFilters.{}.member.values", i + 1),
            f.values.as_ref().map(Vec::len),
            1,
            50,
        );
    }
    list.iter()
        .map(|f| StringFilter {
            key: f.key.clone().unwrap_or_default(),
            option: f.option.clone(),
            values: f.values.clone().unwrap_or_default(),
        })
        .collect()
}

fn token_cursor(token: Option<&str>) -> Result<Option<String>, ApiError> {
    token
        .map(|t| {
            paging::decode_token(t).ok_or_else(|| {
                ApiError::new("InvalidNextToken", "The specified token isn't valid.")
            })
        })
        .transpose()
}

/// Labels (with their versions) and tags of every parameter in the region, by key.
struct Extras {
    labels: HashMap<String, Vec<(String, i64)>>,
    tags: HashMap<String, Vec<(String, String)>>,
}

fn extras(ctx: &Ctx) -> Result<Extras, ApiError> {
    let mut labels: HashMap<String, Vec<(String, i64)>> = HashMap::new();
    for (key, label, version) in ctx.state.store.parameter_labels(&ctx.region)? {
        labels.entry(key).or_default().push((label, version));
    }
    let mut tags: HashMap<String, Vec<(String, String)>> = HashMap::new();
    for (id, k, v) in ctx.state.store.tags_of_type(&ctx.region, "Parameter")? {
        tags.entry(id).or_default().push((k, v));
    }
    Ok(Extras { labels, tags })
}

fn passes(p: &ParameterVersion, filters: &[StringFilter], x: &Extras) -> bool {
    let labels: Vec<String> = x
        .labels
        .get(&p.key)
        .map(|l| l.iter().map(|(l, _)| l.clone()).collect())
        .unwrap_or_default();
    let view = View {
        name: &p.name,
        param_type: &p.param_type,
        key_id: p.key_id.as_deref(),
        tier: &p.tier,
        data_type: &p.data_type,
        labels: &labels,
        tags: x.tags.get(&p.key).map(Vec::as_slice).unwrap_or_default(),
    };
    filters::matches(filters, &view)
}

pub fn get_parameters_by_path(ctx: &Ctx, body: Value) -> Result<Value, ApiError> {
    let req: SearchRequest = parse(body)?;
    let mut v = Validation::new();
    v.required("path", req.path.as_ref());
    v.length("path", req.path.as_deref(), 1, 2048);
    v.range("maxResults", req.max_results, 1, 10);
    let fs = string_filters(&mut v, req.parameter_filters.as_deref().unwrap_or_default());
    v.finish().map_err(ApiError::validation)?;
    let path = req.path.clone().unwrap_or_default();
    name::validate_path(&path).map_err(ApiError::validation)?;
    filters::check(&fs, Operation::ByPath).map_err(rejection)?;
    let after = token_cursor(req.next_token.as_deref())?;
    let x = extras(ctx)?;
    let recursive = req.recursive.unwrap_or(false);
    let wanted_labels: Vec<String> = fs
        .iter()
        .filter(|f| f.key == "Label")
        .flat_map(|f| f.values.clone())
        .collect();
    let matching: Vec<ParameterVersion> = ctx
        .state
        .store
        .list_parameters(&ctx.region)?
        .into_iter()
        .filter(|p| name::in_path(&p.name, &path, recursive) && passes(p, &fs, &x))
        .collect();
    let page = paging::page_after(
        matching,
        after.as_deref(),
        req.max_results.unwrap_or(10) as usize,
        |p| p.key.as_str(),
    );
    let mut dec = Decrypter::new(ctx);
    let mut out = Vec::new();
    for p in &page.items {
        // With a Label filter, the labelled version is the one returned.
        let labelled = x
            .labels
            .get(&p.key)
            .and_then(|ls| ls.iter().find(|(l, _)| wanted_labels.contains(l)));
        let chosen = match labelled {
            Some((_, version)) if *version != p.version => ctx
                .state
                .store
                .parameter_version(&ctx.region, &p.key, *version)?
                .unwrap_or_else(|| p.clone()),
            _ => p.clone(),
        };
        out.push(render(
            ctx,
            &mut dec,
            &chosen,
            req.with_decryption.unwrap_or(false),
            None,
        )?);
    }
    let mut reply = json!({ "Parameters": out });
    if let Some(t) = page.next_token {
        reply["NextToken"] = json!(t);
    }
    Ok(reply)
}

pub fn describe_parameters(ctx: &Ctx, body: Value) -> Result<Value, ApiError> {
    let req: SearchRequest = parse(body)?;
    let mut v = Validation::new();
    v.range("maxResults", req.max_results, 1, 50);
    let mut fs = string_filters(&mut v, req.parameter_filters.as_deref().unwrap_or_default());
    let legacy = req.filters.as_deref().unwrap_or_default();
    for (i, f) in legacy.iter().enumerate() {
        let field = format!("filters.{}.member.key", i + 1);
        v.required(&field, f.key.as_ref());
        v.one_of(&field, f.key.as_deref(), &["Name", "Type", "KeyId"]);
        v.required(
            &format!("filters.{}.member.values", i + 1),
            f.values.as_ref(),
        );
        v.list_length(
            &format!("filters.{}.member.values", i + 1),
            f.values.as_ref().map(Vec::len),
            1,
            50,
        );
    }
    v.finish().map_err(ApiError::validation)?;
    if !legacy.is_empty() && !fs.is_empty() {
        return Err(ApiError::validation(
            "You can use either Filters or ParameterFilters in a single request.",
        ));
    }
    filters::check(&fs, Operation::Describe).map_err(rejection)?;
    fs.extend(legacy.iter().map(|f| {
        filters::from_legacy(
            f.key.as_deref().unwrap_or_default(),
            f.values.clone().unwrap_or_default(),
        )
    }));
    let after = token_cursor(req.next_token.as_deref())?;
    let x = extras(ctx)?;
    let matching: Vec<ParameterVersion> = ctx
        .state
        .store
        .list_parameters(&ctx.region)?
        .into_iter()
        .filter(|p| passes(p, &fs, &x))
        .collect();
    let page = paging::page_after(
        matching,
        after.as_deref(),
        req.max_results.unwrap_or(50) as usize,
        |p| p.key.as_str(),
    );
    let mut out = Vec::new();
    for p in &page.items {
        let mut m = render_metadata(ctx, p)?;
        m["ARN"] = json!(super::parameters::parameter_arn(ctx, &p.name));
        out.push(m);
    }
    let mut reply = json!({ "Parameters": out });
    if let Some(t) = page.next_token {
        reply["NextToken"] = json!(t);
    }
    Ok(reply)
}
