//! Every page the server renders is HTML the browser keeps as written. The HTML parser repairs
//! some nestings (a form inside a form is dropped; a block inside a paragraph closes it), the
//! DOM the app builds does not, and hydration then fails — for a form, only sometimes: inside the
//! `<template>` a streamed part of the page arrives in, the parser keeps a nested form.

mod common;

use app::contacts::CreateContact;
use common::browser;

/// Elements that never have a closing tag.
const VOID: &[&str] = &[
    "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param", "source",
    "track", "wbr",
];

/// Start tags that close an open `<p>` in the HTML parser.
const CLOSES_P: &[&str] = &[
    "address",
    "article",
    "aside",
    "blockquote",
    "details",
    "dialog",
    "div",
    "dl",
    "fieldset",
    "figure",
    "footer",
    "form",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "header",
    "hr",
    "main",
    "menu",
    "nav",
    "ol",
    "p",
    "pre",
    "section",
    "table",
    "ul",
];

/// The nestings in `html` that the browser's parser would not keep, each as "inner in outer".
fn repaired_nestings(html: &str) -> Vec<String> {
    let mut problems = Vec::new();
    // Open elements; a `<template>` starts a fragment of its own.
    let mut open: Vec<String> = Vec::new();
    let mut rest = html;
    while let Some(at) = rest.find('<') {
        rest = &rest[at..];
        for (start, end) in [
            ("<!--", "-->"),
            ("<script", "</script>"),
            ("<style", "</style>"),
        ] {
            if rest.starts_with(start) {
                rest = rest.find(end).map_or("", |e| &rest[e + end.len()..]);
            }
        }
        let Some(tag) = rest.strip_prefix('<') else {
            continue;
        };
        let closing = tag.starts_with('/');
        let name: String = tag
            .trim_start_matches('/')
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '-')
            .collect::<String>()
            .to_ascii_lowercase();
        // The end of the tag, past any `>` inside a quoted attribute value.
        let mut quote = None;
        let end = tag
            .char_indices()
            .find(|&(_, c)| match quote {
                Some(q) if c == q => {
                    quote = None;
                    false
                }
                Some(_) => false,
                None if c == '"' || c == '\'' => {
                    quote = Some(c);
                    false
                }
                None => c == '>',
            })
            .map_or(tag.len(), |(i, _)| i + 1);
        rest = &tag[end..];
        if name.is_empty() {
            continue;
        }
        if closing {
            if let Some(i) = open.iter().rposition(|n| *n == name) {
                open.truncate(i);
            }
            continue;
        }
        let fragment = open
            .iter()
            .rposition(|n| n == "template")
            .map_or(&open[..], |i| &open[i + 1..]);
        let inside = |outer: &str| fragment.iter().any(|n| n == outer);
        for (inner, outer) in [("form", "form"), ("a", "a"), ("button", "button")] {
            if name == inner && inside(outer) {
                problems.push(format!("<{inner}> in <{outer}>"));
            }
        }
        if CLOSES_P.contains(&name.as_str()) && inside("p") {
            problems.push(format!("<{name}> in <p>"));
        }
        if !VOID.contains(&name.as_str()) && !tag[..end].ends_with("/>") {
            open.push(name);
        }
    }
    problems
}

#[test]
fn the_check_finds_what_the_parser_would_repair() {
    assert!(
        repaired_nestings("<form><input><p>a</p><button>b</button></form><form></form>").is_empty()
    );
    assert_eq!(
        repaired_nestings("<form class=\"a>b\"><div><form></form></div></form>"),
        ["<form> in <form>"]
    );
    assert_eq!(
        repaired_nestings("<p>text <div>block</div></p>"),
        ["<div> in <p>"]
    );
    assert!(
        repaired_nestings("<form><!-- <form> --><script>'<form>'</script></form>").is_empty(),
        "comments and scripts are not markup"
    );
    assert!(
        repaired_nestings("<form></form><template><form></form></template>").is_empty(),
        "a template's content is a fragment of its own"
    );
}

app_test!(every_page_is_html_the_browser_keeps_as_written, |app| {
    let anonymous = browser();
    let setup = app.get(&anonymous, "/setup").await.text().await.unwrap();
    assert_eq!(repaired_nestings(&setup), Vec::<String>::new(), "/setup");

    let tab = browser();
    app.set_up_admin(&tab).await;
    let login = app.get(&browser(), "/login").await.text().await.unwrap();
    assert_eq!(repaired_nestings(&login), Vec::<String>::new(), "/login");
    let id: uuid::Uuid = app
        .ok::<CreateContact, _>(
            &tab,
            serde_json::json!({ "kind": "person", "first_name": "Giulia", "last_name": "Bianchi" }),
        )
        .await;
    for path in [
        "/contacts".to_string(),
        "/contacts?q=giulia".to_string(),
        format!("/contacts/{id}"),
        format!("/contacts/{id}?q=giulia&pos=1&of=1"),
        "/settings/fields".to_string(),
        "/settings/tags".to_string(),
        "/settings/team".to_string(),
        "/settings/snippets".to_string(),
        "/password-reset".to_string(),
    ] {
        let page = app.get(&tab, &path).await;
        assert_eq!(page.status(), 200, "{path}");
        let html = page.text().await.unwrap();
        assert!(html.contains("</html>"), "{path} is whole");
        assert_eq!(repaired_nestings(&html), Vec::<String>::new(), "{path}");
    }
    app.stop().await;
});

/// The bundles are precompressed files: the browser gets the encoding it asked for, and a cache
/// between the two is told that the answer depends on it. Pages name them under a prefix of this
/// build's own, which browsers keep without asking again; another build names another prefix.
#[tokio::test]
async fn bundles_are_kept_by_browsers_until_a_build_changes_them() {
    let site = std::env::temp_dir().join(format!("rubrica-site-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(site.join("pkg")).unwrap();
    std::fs::write(site.join("pkg/rubrica.css"), "body{}").unwrap();
    std::fs::write(site.join("pkg/rubrica.css.gz"), "gzip bytes").unwrap();
    std::fs::write(site.join("pkg/rubrica.css.br"), "brotli bytes").unwrap();
    let test_db = app::testing::TestDb::sqlite().await;
    let serve = |site: std::path::PathBuf| {
        let db = test_db.db.clone();
        async move {
            let listener = server::bind("127.0.0.1:0".parse().unwrap()).await.unwrap();
            let addr = listener.local_addr().unwrap();
            let state = app::state::AppState::new(
                server::leptos_options(&site, addr),
                db,
                app::state::AuthSettings::default(),
            );
            let running = server::start_with(listener, state, None, false)
                .await
                .unwrap();
            (format!("http://{addr}"), running)
        }
    };
    let (base, running) = serve(site.clone()).await;
    // Built without reqwest's decompression: the bytes are seen as sent.
    let client = reqwest::Client::new();
    let stylesheet = |html: String| {
        let marker = "rel=\"stylesheet\" href=\"";
        let at = html.find(marker).expect("a stylesheet") + marker.len();
        html[at..at + html[at..].find('"').unwrap()].to_string()
    };
    let login = client.get(format!("{base}/login")).send().await.unwrap();
    let css = stylesheet(login.text().await.unwrap());
    assert!(
        css.starts_with("/b/") && css.ends_with("/pkg/rubrica.css"),
        "{css}"
    );

    for (path, cache) in [
        (css.as_str(), "max-age=31536000, immutable"),
        ("/pkg/rubrica.css", "no-cache"),
    ] {
        for (accepts, encoding, body) in [
            ("br, gzip", Some("br"), "brotli bytes"),
            ("gzip", Some("gzip"), "gzip bytes"),
            ("identity", None, "body{}"),
        ] {
            let answer = client
                .get(format!("{base}{path}"))
                .header("Accept-Encoding", accepts)
                .send()
                .await
                .unwrap();
            assert_eq!(answer.status(), 200, "{path} {accepts}");
            let header = |name: &str| {
                answer
                    .headers()
                    .get(name)
                    .map(|v| v.to_str().unwrap().to_string())
            };
            assert_eq!(
                header("content-encoding").as_deref(),
                encoding,
                "{path} {accepts}"
            );
            assert_eq!(header("vary").as_deref(), Some("accept-encoding"), "{path}");
            assert_eq!(header("cache-control").as_deref(), Some(cache), "{path}");
            assert_eq!(answer.text().await.unwrap(), body, "{path} {accepts}");
        }
    }
    running.stop().await.unwrap();

    // The next build: one file changed.
    std::fs::write(site.join("pkg/rubrica.css.br"), "other brotli bytes").unwrap();
    let (base, running) = serve(site.clone()).await;
    let login = client.get(format!("{base}/login")).send().await.unwrap();
    let next = stylesheet(login.text().await.unwrap());
    assert!(
        next.ends_with("/pkg/rubrica.css") && next != css,
        "{next} after {css}"
    );
    let old = client.get(format!("{base}{css}")).send().await.unwrap();
    assert_eq!(
        old.status(),
        404,
        "the last build's files are not this one's"
    );
    running.stop().await.unwrap();
    std::fs::remove_dir_all(site).unwrap();
}
