//! Italian and English: the page's language follows the browser until the user picks one, and
//! then follows the user on every browser they sign in from.

mod common;

use app::{
    auth::{CurrentUser, Me, SetLocale},
    error::{AppError, Problem},
    i18n::Locale,
};
use common::{app_error, browser_in, ADMIN_EMAIL, ADMIN_PASSWORD};
use leptos::server_fn::ServerFn;
use reqwest::header;

async fn page(app: &common::TestApp, client: &reqwest::Client, path: &str) -> String {
    let response = app.get(client, path).await;
    assert_eq!(response.status(), 200, "GET {path}");
    response.text().await.unwrap()
}

app_test!(
    the_sign_in_page_speaks_the_browser_s_language_and_italian_by_default,
    |app| {
        let setup = browser_in("en");
        app.set_up_admin(&setup).await;

        let italian = page(&app, &browser_in("it-IT,it;q=0.9,en;q=0.8"), "/login").await;
        assert!(italian.contains(r#"<html lang="it""#), "{italian}");
        assert!(italian.contains("Accedi"));

        let english = page(&app, &browser_in("de-CH, en-US;q=0.8, it;q=0.5"), "/login").await;
        assert!(english.contains(r#"<html lang="en""#));
        assert!(english.contains("Sign in"));
        assert!(!english.contains("Accedi"));

        let neither = page(&app, &browser_in("fr-FR"), "/login").await;
        assert!(
            neither.contains(r#"<html lang="it""#),
            "Rubrica is Italian first"
        );
    }
);

app_test!(
    a_user_s_language_choice_wins_over_the_browser_and_follows_them,
    |app| {
        let laptop = browser_in("en-US,en;q=0.9");
        app.set_up_admin(&laptop).await;
        let contacts = page(&app, &laptop, "/contacts").await;
        assert!(contacts.contains(r#"<html lang="en""#));
        assert!(contacts.contains(">Contacts<"));
        assert!(
            contacts.contains(r#"value="it" lang="it""#) && contacts.contains(">Italiano<"),
            "the switch offers Italian, in Italian"
        );

        // The switch is a plain form: it saves the choice and goes back to the same page.
        let switched = laptop
            .post(app.url(SetLocale::PATH))
            .header(header::ACCEPT, "text/html")
            .form(&[("locale", "it"), ("next", "/contacts?q=rossi")])
            .send()
            .await
            .unwrap();
        assert!(switched.status().is_redirection(), "{}", switched.status());
        assert_eq!(switched.headers()[header::LOCATION], "/contacts?q=rossi");

        let contacts = page(&app, &laptop, "/contacts?q=rossi").await;
        assert!(contacts.contains(r#"<html lang="it""#));
        assert!(contacts.contains(">Contatti<"));
        assert!(contacts.contains(">English<"), "and back to English");

        // Another browser, set to English, signs in as the same user: Italian, as chosen.
        let phone = browser_in("en");
        assert_eq!(
            app.sign_in(&phone, ADMIN_EMAIL, ADMIN_PASSWORD)
                .await
                .status(),
            200
        );
        let me: CurrentUser = app.call_json::<Me>(&phone, &[]).await.json().await.unwrap();
        assert_eq!(me.locale, Some(Locale::It));
        assert!(page(&app, &phone, "/contacts")
            .await
            .contains(r#"<html lang="it""#));

        // Only the languages Rubrica speaks, and only back to this site.
        let refused = app
            .call::<SetLocale>(&phone, &[("locale", "de"), ("next", "/contacts")])
            .await;
        assert_eq!(refused.status(), 422);
        assert_eq!(
            app_error(refused).await.field_problem("locale"),
            Some(Problem::NotInList)
        );
        let offsite = phone
            .post(app.url(SetLocale::PATH))
            .header(header::ACCEPT, "text/html")
            .form(&[("locale", "en"), ("next", "https://evil.example/")])
            .send()
            .await
            .unwrap();
        assert_eq!(offsite.headers()[header::LOCATION], "/contacts");
        assert!(page(&app, &phone, "/contacts")
            .await
            .contains(r#"<html lang="en""#));

        // Nobody signed in: nothing to remember it for.
        let anonymous = app
            .call::<SetLocale>(&browser_in("it"), &[("locale", "it")])
            .await;
        assert_eq!(app_error(anonymous).await, AppError::Unauthorized);
    }
);
