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
use leptos_meta::{provide_meta_context, MetaTags, Stylesheet, Title};
use leptos_router::{
    components::{Outlet, ParentRoute, Redirect, Route, Router, Routes, A},
    path, Lazy,
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

/// The HTML document around the app, rendered on the server.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    let lang = i18n::request_locale().tag();
    view! {
        <!DOCTYPE html>
        <html lang=lang>
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <meta name="color-scheme" content="light"/>
                <link rel="icon" href="/favicon.svg" type="image/svg+xml"/>
                {ui::needs_screens_css().then(|| view! {
                    <link id=ui::SCREENS_CSS_ID rel="stylesheet" href=ui::SCREENS_CSS/>
                })}
                <script inner_html=KEEP_EARLY_TYPING></script>
                <AutoReload options=options.clone()/>
                <HydrationScripts options/>
                <MetaTags/>
            </head>
            <body>
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
        <Stylesheet id="leptos" href="/pkg/rubrica.css"/>
        <Title text="Rubrica"/>
        <Router>
            <Routes fallback=|| view! { <NotFound/> }>
                // Lazy routes come in a wasm chunk of their own (`cargo leptos build --split`),
                // fetched when first shown: the contacts list, where people land, loads alone.
                <Route path=path!("/login") view={Lazy::<LoginRoute>::new()}/>
                <Route path=path!("/setup") view={Lazy::<SetupRoute>::new()}/>
                <Route path=path!("/password-reset") view={Lazy::<PasswordRoute>::new()}/>
                <Route path=path!("/password-reset/:token") view={Lazy::<PasswordRoute>::new()}/>
                <ParentRoute path=path!("") view=Workspace>
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
