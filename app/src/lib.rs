//! Rubrica's application: shared by the server (SSR, server functions) and the browser (hydration).
//!
//! One folder per area of the product, each with its types, server functions, components and a
//! server-only `store` holding its SQL. See ARCHITECTURE.md for the map.

pub mod auth;
pub mod contacts;
pub mod error;
pub mod resource;
pub mod ui;

#[cfg(feature = "ssr")]
pub mod db;
#[cfg(feature = "ssr")]
pub mod state;
#[cfg(feature = "ssr")]
pub mod testing;

use leptos::prelude::*;
use leptos_meta::{provide_meta_context, MetaTags, Stylesheet, Title};
use leptos_router::{
    components::{Outlet, ParentRoute, Redirect, Route, Router, Routes, A},
    path,
};

use crate::auth::{me, LoginPage, SetupPage, SignOutButton};
use crate::contacts::{ContactPage, ContactsPage};

/// The HTML document around the app, rendered on the server.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <meta name="color-scheme" content="light"/>
                <link rel="icon" href="/favicon.svg" type="image/svg+xml"/>
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
    view! {
        <Stylesheet id="leptos" href="/pkg/rubrica.css"/>
        <Title text="Rubrica"/>
        <Router>
            <Routes fallback=|| view! { <NotFound/> }>
                <Route path=path!("/login") view=LoginPage/>
                <Route path=path!("/setup") view=SetupPage/>
                <ParentRoute path=path!("") view=Workspace>
                    <Route path=path!("/") view=|| view! { <Redirect path="/contacts"/> }/>
                    <Route path=path!("/contacts") view=ContactsPage/>
                    <Route path=path!("/contacts/:id") view=ContactPage/>
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
    view! {
        <a class="skip-link" href="#main">"Skip to content"</a>
        <header class="topbar">
            <nav aria-label="Main">
                <A href="/contacts" attr:class="brand">"Rubrica"</A>
                <A href="/contacts">"Contacts"</A>
            </nav>
            <div class="account">
                <Transition>
                    {move || Suspend::new(async move {
                        user.await.ok().map(|u| view! { <span class="user-name">{u.name}</span> })
                    })}
                </Transition>
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
    view! {
        <Title text="Not found · Rubrica"/>
        <main id="main" class="not-found">
            <h1>"Page not found"</h1>
            <p><a href="/contacts">"Go to your contacts"</a></p>
        </main>
    }
}
