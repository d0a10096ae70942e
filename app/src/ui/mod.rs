//! Small widgets shared by every feature.

use leptos::prelude::*;

use crate::{error::AppError, i18n::use_locale};

/// The stylesheet of the contact page and Settings (`public/screens.css`): the first bundle,
/// which the contacts list needs, stays without it.
pub const SCREENS_CSS: &str = "/screens.css";
pub const SCREENS_CSS_ID: &str = "screens-css";

/// Whether the page the server is rendering is one of those screens (their stylesheet then goes
/// in the head, so the first paint is styled).
pub fn needs_screens_css() -> bool {
    #[cfg(feature = "ssr")]
    if let Some(parts) = use_context::<http::request::Parts>() {
        let path = parts.uri.path();
        return path.starts_with("/contacts/") || path.starts_with("/settings");
    }
    false
}

/// Adds the screens' stylesheet to the page, once, when the browser navigates to one of them
/// (it loads while their code does).
pub fn screens_css() {
    #[cfg(feature = "hydrate")]
    {
        let document = document();
        if document.get_element_by_id(SCREENS_CSS_ID).is_some() {
            return;
        }
        if let (Ok(link), Some(head)) = (document.create_element("link"), document.head()) {
            let _ = link.set_attribute("id", SCREENS_CSS_ID);
            let _ = link.set_attribute("rel", "stylesheet");
            let _ = link.set_attribute("href", SCREENS_CSS);
            let _ = head.append_child(&link);
        }
    }
}

/// The error a server action ended with, if any.
pub fn action_error<I, O>(action: ServerAction<I>) -> Signal<Option<AppError>>
where
    I: leptos::server_fn::ServerFn<Output = O, Error = AppError> + Clone + Send + Sync + 'static,
    O: Clone + Send + Sync + 'static,
{
    Signal::derive(move || action.value().get().and_then(|r| r.err()))
}

/// A labelled input whose error, if any, sits right under it and is announced with it.
/// The input is uncontrolled: a failed submit never clears what the user typed.
#[component]
pub fn TextField(
    /// The visible label, which is also the control's accessible name.
    label: &'static str,
    /// The form field name, matching the server function's argument and [`AppError::Invalid`].
    name: &'static str,
    /// Unique on the page.
    id: &'static str,
    #[prop(default = "text")] input_type: &'static str,
    #[prop(optional)] autocomplete: Option<&'static str>,
    #[prop(optional)] required: bool,
    #[prop(optional)] autofocus: bool,
    /// The error from the last submit, if any.
    #[prop(into)]
    error: Signal<Option<AppError>>,
) -> impl IntoView {
    let l = use_locale();
    let message = move || {
        error
            .get()
            .and_then(|e| e.field_problem(name))
            .map(|p| p.text(l))
    };
    let error_id = format!("{id}-error");
    let described_by = {
        let error_id = error_id.clone();
        move || message().map(|_| error_id.clone())
    };
    view! {
        <div class="field">
            <label for=id>{label}</label>
            <input
                id=id
                name=name
                type=input_type
                autocomplete=autocomplete
                required=required
                autofocus=autofocus
                aria-invalid=move || message().map(|_| "true")
                aria-describedby=described_by
            />
            {move || {
                message().map(|m| view! { <p class="field-error" id=error_id.clone()>{m}</p> })
            }}
        </div>
    }
}

/// An error that belongs to no single field, announced to screen readers.
#[component]
pub fn FormAlert(#[prop(into)] error: Signal<Option<AppError>>) -> impl IntoView {
    let l = use_locale();
    let general = move || {
        error.get().filter(|e| match e {
            // Field problems show next to their fields; repeat only a summary of several.
            AppError::Invalid(list) => list.len() > 1,
            _ => true,
        })
    };
    move || general().map(|e| view! { <p class="alert" role="alert">{e.message(l)}</p> })
}
