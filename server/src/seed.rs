//! `rubrica seed`: realistic Italian demo contacts, fast enough for a million (batched multi-row
//! inserts, one transaction per batch) with a progress bar on the terminal.

use app::{
    auth::{store as users, Email, NewPassword},
    contacts::{
        store::{insert_many, ContactRecord},
        ContactKind,
    },
    db::{new_id, now, Db},
    tags::store as tags,
};
use chrono::{DateTime, Duration, NaiveDate, Utc};
use indicatif::{ProgressBar, ProgressStyle};
use rand::{rngs::StdRng, seq::SliceRandom, Rng, SeedableRng};

pub const DEMO_EMAIL: &str = "demo@rubrica.local";
pub const DEMO_PASSWORD: &str = "rubrica-demo";

/// Contacts written per transaction.
const BATCH: usize = 5_000;

const FIRST_NAMES_F: &[&str] = &[
    "Giulia",
    "Sofia",
    "Aurora",
    "Alice",
    "Ginevra",
    "Emma",
    "Giorgia",
    "Beatrice",
    "Anna",
    "Vittoria",
    "Chiara",
    "Francesca",
    "Martina",
    "Sara",
    "Elena",
    "Valentina",
    "Federica",
    "Alessia",
    "Laura",
    "Silvia",
    "Paola",
    "Roberta",
    "Elisa",
    "Ilaria",
    "Noemi",
    "Camilla",
    "Rebecca",
    "Matilde",
    "Lucia",
    "Caterina",
    "Maria",
    "Rosa",
    "Teresa",
    "Marta",
    "Benedetta",
    "Greta",
    "Irene",
    "Nicoletta",
];
const FIRST_NAMES_M: &[&str] = &[
    "Leonardo",
    "Francesco",
    "Alessandro",
    "Lorenzo",
    "Mattia",
    "Tommaso",
    "Gabriele",
    "Andrea",
    "Riccardo",
    "Edoardo",
    "Matteo",
    "Giuseppe",
    "Antonio",
    "Marco",
    "Luca",
    "Davide",
    "Simone",
    "Federico",
    "Stefano",
    "Paolo",
    "Giovanni",
    "Roberto",
    "Massimo",
    "Fabio",
    "Nicolò",
    "Pietro",
    "Salvatore",
    "Vincenzo",
    "Emanuele",
    "Daniele",
    "Michele",
    "Claudio",
    "Carlo",
    "Enrico",
    "Filippo",
];
const LAST_NAMES: &[&str] = &[
    "Rossi",
    "Russo",
    "Ferrari",
    "Esposito",
    "Bianchi",
    "Romano",
    "Colombo",
    "Ricci",
    "Marino",
    "Greco",
    "Bruno",
    "Gallo",
    "Conti",
    "De Luca",
    "Mancini",
    "Costa",
    "Giordano",
    "Rizzo",
    "Lombardi",
    "Moretti",
    "Barbieri",
    "Fontana",
    "Santoro",
    "Mariani",
    "Rinaldi",
    "Caruso",
    "Ferrara",
    "Galli",
    "Martini",
    "Leone",
    "Longo",
    "Gentile",
    "Martinelli",
    "Vitale",
    "Lombardo",
    "Serra",
    "Coppola",
    "De Santis",
    "D'Angelo",
    "Marchetti",
    "Parisi",
    "Villa",
    "Conte",
    "Ferraro",
    "Ferri",
    "Fabbri",
    "Bianco",
    "Marini",
    "Grasso",
    "Valentini",
    "Messina",
    "Sala",
    "De Angelis",
    "Gatti",
    "Pellegrini",
    "Palumbo",
    "Sanna",
    "Farina",
    "Rizzi",
    "Monti",
    "Cattaneo",
    "Morelli",
    "Amato",
    "Silvestri",
    "Mazza",
    "Testa",
    "Grassi",
    "Pellegrino",
    "Carbone",
    "Giuliani",
    "Benedetti",
    "Barone",
    "Rossetti",
    "Caputo",
    "Montanari",
    "Guerra",
    "Palmieri",
    "Bernardi",
    "Martino",
    "Fiore",
    "De Rosa",
    "Ferretti",
    "Bellini",
    "Basile",
    "Riva",
    "Donati",
    "Piras",
    "Vitali",
    "Battaglia",
    "Sartori",
    "Neri",
    "Costantini",
];
/// City, province code, region, postal code.
const CITIES: &[(&str, &str, &str, &str)] = &[
    ("Roma", "RM", "Lazio", "00184"),
    ("Milano", "MI", "Lombardia", "20121"),
    ("Napoli", "NA", "Campania", "80133"),
    ("Torino", "TO", "Piemonte", "10121"),
    ("Palermo", "PA", "Sicilia", "90133"),
    ("Genova", "GE", "Liguria", "16121"),
    ("Bologna", "BO", "Emilia-Romagna", "40121"),
    ("Firenze", "FI", "Toscana", "50122"),
    ("Bari", "BA", "Puglia", "70121"),
    ("Catania", "CT", "Sicilia", "95124"),
    ("Venezia", "VE", "Veneto", "30124"),
    ("Verona", "VR", "Veneto", "37121"),
    ("Messina", "ME", "Sicilia", "98122"),
    ("Padova", "PD", "Veneto", "35122"),
    ("Trieste", "TS", "Friuli-Venezia Giulia", "34121"),
    ("Brescia", "BS", "Lombardia", "25121"),
    ("Parma", "PR", "Emilia-Romagna", "43121"),
    ("Prato", "PO", "Toscana", "59100"),
    ("Modena", "MO", "Emilia-Romagna", "41121"),
    ("Reggio Calabria", "RC", "Calabria", "89125"),
    ("Perugia", "PG", "Umbria", "06121"),
    ("Cagliari", "CA", "Sardegna", "09124"),
    ("Bergamo", "BG", "Lombardia", "24121"),
    ("Lecce", "LE", "Puglia", "73100"),
    ("Trento", "TN", "Trentino-Alto Adige", "38122"),
    ("Ancona", "AN", "Marche", "60121"),
    ("Pescara", "PE", "Abruzzo", "65121"),
    ("Salerno", "SA", "Campania", "84121"),
];
const STREETS: &[&str] = &[
    "Via Roma",
    "Via Garibaldi",
    "Corso Vittorio Emanuele II",
    "Via Mazzini",
    "Via Cavour",
    "Piazza della Repubblica",
    "Via Dante Alighieri",
    "Via XX Settembre",
    "Viale Europa",
    "Via Verdi",
    "Corso Italia",
    "Via Manzoni",
    "Via San Francesco",
    "Via Nazionale",
    "Via Marconi",
];
const COMPANY_WORDS: &[&str] = &[
    "Ferramenta",
    "Pasticceria",
    "Studio Legale",
    "Autofficina",
    "Trattoria",
    "Farmacia",
    "Tipografia",
    "Edilizia",
    "Ottica",
    "Panificio",
    "Agenzia Immobiliare",
    "Enoteca",
    "Ceramiche",
    "Tessuti",
    "Impianti Elettrici",
    "Consulenze",
    "Logistica",
    "Arredamenti",
    "Caseificio",
    "Vivai",
];
const COMPANY_FORMS: &[&str] = &["S.r.l.", "S.p.A.", "S.n.c.", "S.a.s.", "& Figli", ""];
const MAIL_DOMAINS: &[&str] = &[
    "gmail.com",
    "libero.it",
    "virgilio.it",
    "outlook.it",
    "hotmail.it",
    "tiscali.it",
    "alice.it",
    "yahoo.it",
    "fastwebnet.it",
    "icloud.com",
];
const ROLES: &[&str] = &[
    "Titolare",
    "Amministratore delegato",
    "Responsabile acquisti",
    "Direttore commerciale",
    "Impiegata amministrativa",
    "Responsabile marketing",
    "Agente di commercio",
    "Segretaria",
];
const SOURCES: &[&str] = &[
    "Sito web",
    "Passaparola",
    "Fiera",
    "Facebook",
    "Instagram",
    "Google Ads",
    "Volantino",
    "Telefonata",
];
const LEAD_STATUSES: &[&str] = &["cold", "warm", "hot"];
/// The default contact types (fixed ids from the migrations): Lead, Customer, Supplier, Partner.
const TYPES: &[&str] = &[
    "00000000-0000-0000-0000-0000d0000001",
    "00000000-0000-0000-0000-0000d0000002",
    "00000000-0000-0000-0000-0000d0000003",
    "00000000-0000-0000-0000-0000d0000004",
];
const UTM_SOURCES: &[&str] = &["google", "facebook", "instagram", "newsletter"];
const UTM_MEDIUMS: &[&str] = &["cpc", "social", "email", "referral"];
const UTM_CAMPAIGNS: &[&str] = &[
    "saldi-invernali",
    "black-friday",
    "primavera",
    "lancio-negozio",
];

fn pick<'a>(rng: &mut impl Rng, list: &[&'a str]) -> &'a str {
    list.choose(rng).copied().unwrap_or_default()
}

/// `some(rng, 0.7, ...)`: the value 70% of the time, else empty — real CRMs are full of gaps.
fn some<T>(rng: &mut StdRng, probability: f64, value: impl FnOnce(&mut StdRng) -> T) -> Option<T> {
    if rng.gen_bool(probability) {
        Some(value(rng))
    } else {
        None
    }
}

/// Plain lower-case ASCII letters and digits, for email addresses and web sites.
fn slug(s: &str) -> String {
    deunicode::deunicode(s)
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .collect::<String>()
        .to_lowercase()
}

fn mobile_phone(rng: &mut StdRng) -> String {
    const PREFIXES: &[u16] = &[
        320, 324, 328, 329, 331, 333, 334, 335, 338, 339, 340, 342, 345, 347, 348, 349, 351, 366,
        380, 388, 392,
    ];
    let prefix = PREFIXES[rng.gen_range(0..PREFIXES.len())];
    format!("+39{prefix}{:07}", rng.gen_range(0..10_000_000))
}

fn random_contact(rng: &mut StdRng, now: DateTime<Utc>) -> ContactRecord {
    let kind = if rng.gen_bool(0.15) {
        ContactKind::Company
    } else {
        ContactKind::Person
    };
    let (city, province, region, postal_code) = *CITIES.choose(rng).expect("cities");
    let created_at = now - Duration::seconds(rng.gen_range(0..3 * 365 * 24 * 3600));
    let updated_at = (created_at + Duration::seconds(rng.gen_range(0..90 * 24 * 3600))).min(now);
    let company = format!(
        "{} {} {}",
        pick(rng, COMPANY_WORDS),
        pick(rng, LAST_NAMES),
        pick(rng, COMPANY_FORMS)
    )
    .trim()
    .to_string();

    let (first_name, last_name, gender, email, business_name) = match kind {
        ContactKind::Person => {
            let female = rng.gen_bool(0.5);
            let first = pick(rng, if female { FIRST_NAMES_F } else { FIRST_NAMES_M });
            let last = pick(rng, LAST_NAMES);
            let email = some(rng, 0.8, |r| {
                let n = r.gen_range(1..100);
                format!(
                    "{}.{}{n}@{}",
                    slug(first),
                    slug(last),
                    pick(r, MAIL_DOMAINS)
                )
            });
            (
                Some(first.to_string()),
                Some(last.to_string()),
                some(rng, 0.6, |_| {
                    if female { "female" } else { "male" }.to_string()
                }),
                email,
                some(rng, 0.35, |_| company.clone()),
            )
        }
        ContactKind::Company => {
            let email = some(rng, 0.9, |_| format!("info@{}.it", slug(&company)));
            (None, None, None, email, Some(company.clone()))
        }
    };
    let website = match kind {
        ContactKind::Company => some(rng, 0.7, |_| format!("https://www.{}.it", slug(&company))),
        ContactKind::Person => None,
    };

    ContactRecord {
        id: new_id(),
        kind,
        first_name,
        last_name,
        email,
        phone: some(rng, 0.85, mobile_phone),
        date_of_birth: match kind {
            ContactKind::Person => some(rng, 0.4, |r| {
                NaiveDate::from_ymd_opt(
                    r.gen_range(1950..2005),
                    r.gen_range(1..=12),
                    r.gen_range(1..=28),
                )
                .expect("a real date")
            }),
            ContactKind::Company => None,
        },
        contact_source: some(rng, 0.6, |r| pick(r, SOURCES).to_string()),
        contact_type_id: some(rng, 0.7, |r| pick(r, TYPES).parse().expect("a fixed uuid")),
        owner_id: None,
        business_name,
        street_address: some(rng, 0.5, |r| {
            format!("{} {}", pick(r, STREETS), r.gen_range(1..180))
        }),
        city: some(rng, 0.8, |_| city.to_string()),
        country: some(rng, 0.7, |_| "Italia".to_string()),
        state: some(rng, 0.5, |_| format!("{region} ({province})")),
        postal_code: some(rng, 0.5, |_| postal_code.to_string()),
        website,
        time_zone: some(rng, 0.3, |_| "Europe/Rome".to_string()),
        role: some(rng, 0.3, |r| pick(r, ROLES).to_string()),
        gender,
        lead_status: some(rng, 0.5, |r| pick(r, LEAD_STATUSES).to_string()),
        utm_source: some(rng, 0.2, |r| pick(r, UTM_SOURCES).to_string()),
        utm_medium: some(rng, 0.2, |r| pick(r, UTM_MEDIUMS).to_string()),
        utm_campaign: some(rng, 0.15, |r| pick(r, UTM_CAMPAIGNS).to_string()),
        created_at,
        updated_at,
    }
}

/// Adds `count` contacts (and, if asked and the workspace has no user, the demo admin).
pub async fn run(db: &Db, count: u64, demo_admin: bool) -> anyhow::Result<()> {
    if demo_admin && !users::any_user_exists(db).await? {
        let email = Email::parse(DEMO_EMAIL).map_err(anyhow::Error::msg)?;
        let password = NewPassword::parse(DEMO_PASSWORD).map_err(anyhow::Error::msg)?;
        users::add_user(db, "Demo Admin", &email, &password, true)
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        println!("Created the admin {DEMO_EMAIL} with password {DEMO_PASSWORD}.");
    }
    if count == 0 {
        return Ok(());
    }
    let bar = ProgressBar::new(count);
    bar.set_style(
        ProgressStyle::with_template(
            "{spinner} seeding [{bar:40}] {human_pos}/{human_len} contacts  {per_sec}  ETA {eta}",
        )
        .expect("a valid progress template")
        .progress_chars("=> "),
    );
    let mut rng = StdRng::from_entropy();
    let started = now();
    let timer = std::time::Instant::now();
    // Most demo contacts belong to the workspace's first admin, as if they had been entered by
    // them; the rest are unassigned.
    let owner = users::first_admin(db)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let mut left = count;
    let mut first_batch = true;
    while left > 0 {
        let n = left.min(BATCH as u64) as usize;
        let batch: Vec<ContactRecord> = (0..n)
            .map(|_| {
                let mut contact = random_contact(&mut rng, started);
                contact.owner_id = owner.filter(|_| rng.gen_bool(0.6));
                contact
            })
            .collect();
        insert_many(db, &batch)
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        // A few tags on the first batch only, so that a million contacts seed as fast as before.
        if first_batch {
            tag_some(db, &mut rng, &batch).await?;
            first_batch = false;
        }
        left -= n as u64;
        bar.inc(n as u64);
    }
    bar.finish();
    println!("Added {count} contacts in {:.1?}.", timer.elapsed());
    Ok(())
}

/// Newsletter sign-ups (tagged by Rubrica itself, as a lead form would) and a few VIPs.
async fn tag_some(db: &Db, rng: &mut StdRng, batch: &[ContactRecord]) -> anyhow::Result<()> {
    let vip = tags::find_or_create(db, "VIP")
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    for contact in batch {
        if rng.gen_bool(0.2) {
            tags::add_automatic(db, contact.id, "Newsletter", "Iscrizione dal sito")
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?;
        }
        if rng.gen_bool(0.05) {
            let actor = app::audit::store::Actor::system();
            tags::tag_contact(db, &actor, contact.id, &vip, None)
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn demo_contacts_look_italian_and_have_gaps() {
        let mut rng = StdRng::seed_from_u64(7);
        let at = Utc::now();
        let contacts: Vec<_> = (0..500).map(|_| random_contact(&mut rng, at)).collect();
        assert!(contacts.iter().any(|c| c.kind == ContactKind::Company));
        assert!(contacts
            .iter()
            .any(|c| c.phone.as_deref().is_some_and(|p| p.starts_with("+393"))));
        assert!(contacts.iter().any(|c| c.email.is_none()));
        assert!(contacts
            .iter()
            .all(|c| c.updated_at >= c.created_at && c.created_at <= at));
        for c in &contacts {
            if let Some(email) = &c.email {
                assert!(
                    Email::parse(email).is_ok(),
                    "{email} should be a valid address"
                );
            }
        }
    }
}
