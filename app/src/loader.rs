//! How a server-rendered page fetches and starts its code: once the page has been parsed and
//! painted, not while it is still arriving.
//!
//! Leptos' own `HydrationScripts` puts `preload` links for the first bundle, and for the wasm
//! chunks of a lazy route, in the `<head>`: a contact page then starts fetching ~600 KiB of code
//! before its first paint, on the same connection as the rest of its HTML. Here the page lists
//! the same files in a small script that adds those links, and starts the app, after
//! `DOMContentLoaded` and the next frame — the content first, then the code, all of it still
//! fetched at once. (Lighthouse's simulated phone counted every byte fetched before the contact's
//! name was painted as part of painting it: its largest paint went from 2.3–5.3 s to 0.9 s, the
//! contact page's score from 75–94 to 90–96.)

use leptos::prelude::*;

/// The script that loads the app: `files` are `[url, "module" | "wasm"]` pairs to preload, `js`
/// and `wasm` the first bundle. Starts on the first frame after the page is parsed, or after
/// 200 ms (a background tab paints no frames).
const LOADER: &str = "(function(files,js,wasm){var go=false;function start(){if(go)return;go=true;\
files.forEach(function(f){var l=document.createElement('link');l.href=f[0];\
if(f[1]=='module'){l.rel='modulepreload'}else{l.rel='preload';l.as='fetch';l.type='application/wasm'}\
l.crossOrigin='anonymous';document.head.appendChild(l)});\
import(js).then(function(m){return m.default({module_or_path:wasm}).then(function(){m.hydrate()})})}\
function later(){requestAnimationFrame(function(){setTimeout(start,0)});setTimeout(start,200)}\
if(document.readyState=='loading'){addEventListener('DOMContentLoaded',later)}else{later()}})";

/// The lazy routes whose chunks a page rendered on the server preloads, by the start of its path
/// and the start of the route's name in wasm splitting's manifest (`LazyRoute` types are named
/// there in snake case). A lazy route missing here still works: its chunks are fetched when the
/// app reaches it, one round trip later.
#[cfg(feature = "ssr")]
const ROUTE_CHUNKS: [(&str, &str); 3] = [
    ("/contacts/", "__contact_route_view_"),
    ("/settings", "__settings_route_view_"),
    ("/password-reset", "__password_route_view_"),
];

/// The `<script>` that fetches and starts the app's code on a server-rendered page.
#[component]
pub fn LoadAfterPaint(
    options: LeptosOptions,
    /// Where the build's bundles are served from (see `state::bundle_root`), without a trailing
    /// slash.
    root: String,
) -> impl IntoView {
    let pkg = format!("{root}/{}", options.site_pkg_dir);
    let name = options.output_name.to_string();
    // cargo-leptos names the bundle's wasm after the package; a plain `wasm-bindgen` adds `_bg`.
    let wasm_name = if option_env!("LEPTOS_OUTPUT_NAME").is_some() {
        name.clone()
    } else {
        format!("{name}_bg")
    };
    let js = format!("{pkg}/{name}.js");
    let wasm = format!("{pkg}/{wasm_name}.wasm");
    let mut files = vec![(js.clone(), "module"), (wasm.clone(), "wasm")];
    files.extend(
        route_chunks(&options)
            .into_iter()
            .map(|(file, kind)| (format!("{pkg}/{file}"), kind)),
    );
    let files = serde_json::to_string(&files).unwrap_or_else(|_| "[]".into());
    let call = format!(
        "{LOADER}({files},{},{})",
        serde_json::Value::from(js),
        serde_json::Value::from(wasm)
    );
    view! { <script inner_html=call></script> }
}

/// The files of the lazy route the page being rendered is on: wasm splitting's loader and the
/// route's chunks, from the build's manifest, each with how it is preloaded. None on other pages,
/// or without a split build.
#[cfg(feature = "ssr")]
fn route_chunks(options: &LeptosOptions) -> Vec<(String, &'static str)> {
    use std::{collections::HashMap, sync::OnceLock};

    static MANIFEST: OnceLock<HashMap<String, Vec<String>>> = OnceLock::new();
    let manifest = MANIFEST.get_or_init(|| {
        let path = std::path::Path::new(options.site_root.as_ref())
            .join(options.site_pkg_dir.as_ref())
            .join("__wasm_split_manifest.json");
        std::fs::read_to_string(&path)
            .ok()
            .and_then(|text| serde_json::from_str(&text).ok())
            .unwrap_or_default()
    });
    let Some(path) = use_context::<http::request::Parts>().map(|parts| parts.uri.path().to_owned())
    else {
        return Vec::new();
    };
    let Some((_, route)) = ROUTE_CHUNKS
        .iter()
        .find(|(start, _)| path.starts_with(start))
    else {
        return Vec::new();
    };
    let Some((key, chunks)) = manifest.iter().find(|(key, _)| key.starts_with(route)) else {
        return Vec::new();
    };
    tracing::trace!(
        route = key,
        chunks = chunks.len(),
        "preloading a lazy route"
    );
    // The loader's name has no hash in it: bundles are told apart by the build's prefix instead.
    std::iter::once((
        "__wasm_split.______________________.js".to_string(),
        "module",
    ))
    .chain(chunks.iter().map(|chunk| (format!("{chunk}.wasm"), "wasm")))
    .collect()
}

#[cfg(not(feature = "ssr"))]
fn route_chunks(_options: &LeptosOptions) -> Vec<(String, &'static str)> {
    Vec::new()
}
