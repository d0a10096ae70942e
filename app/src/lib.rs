//! Rubrica's application: shared by the server (SSR, server functions) and the browser (hydration).
//!
//! One folder per area of the product, each with its types, server functions, components and a
//! server-only `store` holding its SQL. See ARCHITECTURE.md for the map.

// The contact page's views are deep nested types; the server-only build (without the erased
// components of release builds) needs more than the default 128 levels to lay them out.
#![recursion_limit = "256"]

/// Declares `$route`, a lazily loaded route showing the component `$page`: its code comes in a wasm
/// chunk of its own (`cargo leptos build --split`), fetched the first time the page is shown.
/// With `, with screens.css`, the stylesheet of the contact page and Settings is fetched as the
/// route is entered, beside its code.
macro_rules! lazy_page {
    ($(#[$doc:meta])* $route:ident => $page:ident $(, with $css:ident)?) => {
        $(#[$doc])*
        pub struct $route;

        #[leptos_router::lazy_route]
        impl leptos_router::LazyRoute for $route {
            fn data() -> Self {
                $( $crate::ui::$css(); )?
                $route
            }

            fn view(_this: Self) -> leptos::prelude::AnyView {
                leptos::prelude::IntoAny::into_any(leptos::prelude::view! { <$page/> })
            }
        }
    };
}

pub mod audit;
pub mod auth;
pub mod contacts;
pub mod conversations;
pub mod error;
pub mod fields;
pub mod i18n;
pub mod loader;
pub mod resource;
pub mod settings;
pub mod snippets;
pub mod tags;
pub mod team;
pub mod ui;

#[cfg(feature = "ssr")]
pub mod db;
#[cfg(feature = "ssr")]
pub mod mail;
#[cfg(feature = "ssr")]
pub mod state;
#[cfg(feature = "ssr")]
pub mod testing;

use leptos::prelude::*;
use leptos_meta::{provide_meta_context, MetaTags, Title};
use leptos_router::{
    components::{Outlet, ParentRoute, Redirect, Route, Router, Routes, A},
    path, Lazy, SsrMode,
};

use crate::auth::{me, LanguageSwitch, LoginRoute, SetupRoute, SignOutButton};
use crate::contacts::{ContactRoute, ContactsPage};
use crate::i18n::{provide_locale, use_locale};
use crate::settings::SettingsRoute;
use crate::team::PasswordRoute;

/// Keeps what is typed into the server-rendered page before its code has taken over (a slow phone,
/// a slow network): the app then sets every control to its own state, and would wipe that text.
/// The contact card takes these values back as edits (`contacts::card`).
const KEEP_EARLY_TYPING: &str = "addEventListener('input',function(e){var t=e.target;\
if(t&&t.id&&!document.body.hasAttribute('data-hydrated')){(window.rubricaTyped=window.rubricaTyped||{})\
[t.id]=t.type=='checkbox'?(t.checked?'true':''):t.value}},true)";

/// What was typed into the control `id` before the page's code took over, if anything (see
/// [`KEEP_EARLY_TYPING`]); taken once.
pub(crate) fn typed_before_hydration(id: &str) -> Option<String> {
    #[cfg(target_arch = "wasm32")]
    {
        let typed = js_sys::Reflect::get(&window(), &"rubricaTyped".into()).ok()?;
        if typed.is_undefined() {
            return None;
        }
        let value = js_sys::Reflect::get(&typed, &id.into()).ok()?.as_string()?;
        let _ = js_sys::Reflect::delete_property(&typed.into(), &id.into());
        Some(value)
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        let _ = id;
        None
    }
}

/// Marks the page as the app's (`data-hydrated` on the body), so that browser tests (and the
/// curious) can tell when the server-rendered page has been taken over: once no part of it is
/// waiting for its turn (the contact page's side panes, see `contacts::card`).
#[cfg(feature = "hydrate")]
pub fn mark_hydrated() {
    let document = document();
    if document
        .query_selector("[data-deferred]")
        .ok()
        .flatten()
        .is_none()
    {
        if let Some(body) = document.body() {
            let _ = body.set_attribute("data-hydrated", "true");
        }
    }
}

/// On the pages served as plain HTML (see [`plain_page`]): what was typed into a form (but a
/// password) is kept across the round trip of a refused submission, which comes back to the same
/// page with the error in its URL (`__err`, Leptos' form redirects) — the error is shown by the
/// server, the text put back here (focus then goes to the field in error, or the password), and
/// the URL cleaned.
const KEEP_FORM_TEXT: &str = "(function(){var k='rubrica.form-text';\
addEventListener('submit',function(e){var v={};e.target.querySelectorAll('input[id]').forEach(function(i){\
if(i.type!='password'&&i.type!='hidden')v[i.id]=i.value});try{sessionStorage.setItem(k,JSON.stringify({p:location.pathname,v:v}))}catch(_){}},true);\
addEventListener('DOMContentLoaded',function(){var u=new URL(location.href);if(!u.searchParams.has('__err'))return;\
try{var s=sessionStorage,d=JSON.parse(s.getItem(k)||'null'),r=0;s.removeItem(k);if(d&&d.p==u.pathname)for(var id in d.v){\
var i=document.getElementById(id);if(i&&!i.value&&d.v[id]){i.value=d.v[id];r=1}}\
var p=document.querySelector('input[aria-invalid=true]')||document.querySelector('input[type=password]');if(r&&p)p.focus()}catch(_){}\
u.searchParams.delete('__err');u.searchParams.delete('__path');\
history.replaceState(null,'',u.pathname+u.search)})})()";

/// Sign-in and first-run setup are sent as plain HTML, without the app's code: a form, a button,
/// and errors rendered by the server (Leptos' `ActionForm` posts without JavaScript too). A phone
/// shows them at once instead of first downloading the wasm bundle, whose code they barely use;
/// the browser fetches it on the page after. (Reached from inside the app, e.g. when a session
/// ends, the same routes come as wasm chunks and work as before.)
fn plain_page() -> bool {
    #[cfg(feature = "ssr")]
    if let Some(parts) = use_context::<http::request::Parts>() {
        return matches!(parts.uri.path(), "/login" | "/setup");
    }
    false
}

/// The HTML document around the app, rendered on the server.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    let lang = i18n::request_locale().tag();
    let plain = plain_page();
    // This build's bundles under a prefix of their own, kept by browsers (see `bundle_root`);
    // a page rendered without the state (if any is) falls back to `/pkg`, revalidated.
    #[cfg(feature = "ssr")]
    let root = use_context::<state::AppState>()
        .map(|state| state.bundle_root.to_string())
        .unwrap_or_default();
    #[cfg(not(feature = "ssr"))]
    let root = String::new();
    let stylesheet = format!(
        "{root}/{}/{}.css",
        options.site_pkg_dir, options.output_name
    );
    view! {
        <!DOCTYPE html>
        <html lang=lang>
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <meta name="color-scheme" content="light"/>
                <link rel="icon" href="/favicon.svg" type="image/svg+xml"/>
                // Before the screens' stylesheet, which adds to it (as it does when the app
                // adds that one on its own, on the way to a contact page).
                <link id="leptos" rel="stylesheet" href=stylesheet/>
                {ui::needs_screens_css().then(|| view! {
                    <link id=ui::SCREENS_CSS_ID rel="stylesheet" href=ui::SCREENS_CSS/>
                })}
                {if plain {
                    view! { <script inner_html=KEEP_FORM_TEXT></script> }.into_any()
                } else {
                    view! {
                        <script inner_html=KEEP_EARLY_TYPING></script>
                        <AutoReload options=options.clone()/>
                        <loader::LoadAfterPaint options root/>
                    }
                    .into_any()
                }}
                <MetaTags/>
            </head>
            // `data-static`: no code will take this page over (browser tests wait for
            // `data-hydrated` on the others).
            <body data-static=plain.then_some("true")>
                <App/>
            </body>
        </html>
    }
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    provide_locale();
    view! {
        <Title text="Rubrica"/>
        <Router>
            <Routes fallback=|| view! { <NotFound/> }>
                // Lazy routes come in a wasm chunk of their own (`cargo leptos build --split`),
                // fetched when first shown: the contacts list, where people land, loads alone.
                <Route path=path!("/login") view={Lazy::<LoginRoute>::new()}/>
                <Route path=path!("/setup") view={Lazy::<SetupRoute>::new()}/>
                <Route path=path!("/password-reset") view={Lazy::<PasswordRoute>::new()}/>
                <Route path=path!("/password-reset/:token") view={Lazy::<PasswordRoute>::new()}/>
                // In order: each part of a page is written where it goes, once its data is read
                // (in-process, milliseconds), instead of a fallback first and the part later in a
                // <template> with a script to move it: fewer bytes, and the HTML parser sees the
                // page as the app will.
                <ParentRoute path=path!("") view=Workspace ssr=SsrMode::InOrder>
                    <Route path=path!("/") view=|| view! { <Redirect path="/contacts"/> }/>
                    <Route path=path!("/contacts") view=ContactsPage/>
                    <Route path=path!("/contacts/:id") view={Lazy::<ContactRoute>::new()}/>
                    <Route path=path!("/settings") view=|| view! { <Redirect path="/settings/fields"/> }/>
                    <Route path=path!("/settings/:section") view={Lazy::<SettingsRoute>::new()}/>
                </ParentRoute>
            </Routes>
        </Router>
    }
}

/// The frame of every signed-in page: navigation, who is signed in, and the page itself.
#[component]
fn Workspace() -> impl IntoView {
    let user = resource::json_resource(|| (), |_| me());
    crate::contacts::PrefetchCache::provide();
    let l = use_locale();
    view! {
        <a class="skip-link" href="#main">{l.t("Skip to content", "Vai al contenuto")}</a>
        <header class="topbar">
            <nav aria-label=l.t("Main", "Principale")>
                <A href="/contacts" attr:class="brand">"Rubrica"</A>
                <A href="/contacts">{l.t("Contacts", "Contatti")}</A>
            </nav>
            <div class="account">
                <Transition>
                    {move || Suspend::new(async move {
                        user.await.ok().map(|u| view! {
                            // Settings are the admins' (the screens refuse anyone else too).
                            {u.is_admin.then(|| view! {
                                <A href="/settings/fields" attr:class="settings-link">
                                    <span class="settings-icon" aria-hidden="true">"⚙"</span>
                                    <span class="settings-text">{l.t("Settings", "Impostazioni")}</span>
                                </A>
                            })}
                            <span class="user-name">{u.name}</span>
                        })
                    })}
                </Transition>
                <LanguageSwitch/>
                <SignOutButton/>
            </div>
        </header>
        <main id="main">
            <Outlet/>
        </main>
    }
}

#[component]
fn NotFound() -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(http::StatusCode::NOT_FOUND);
    }
    let l = use_locale();
    view! {
        <Title text=l.t("Not found · Rubrica", "Non trovata · Rubrica")/>
        <main id="main" class="not-found">
            <h1>{l.t("Page not found", "Pagina non trovata")}</h1>
            <p><a href="/contacts">{l.t("Go to your contacts", "Vai ai tuoi contatti")}</a></p>
        </main>
    }
}
