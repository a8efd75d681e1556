//! The maintenance commands of `caravan`, run on a stopped server's data directory (the
//! store is one process's at a time): compact, rekey, export, import, restore; `caravan
//! backup`, from a running server (over HTTP) or a stopped one; and `caravan token`, which
//! mints a development token.

use std::path::Path;

use anyhow::Context;
use persistence::{DocStore, Keyring, SledStore, TripId};

use crate::auth::lifetime::parse_ttl;
use crate::auth::{Claims, Role, TokenKeys};
use crate::document::load_doc;
use crate::metrics::Metrics;

/// Where a stopped server's store is and how it is encrypted.
pub struct StoreLocation<'a> {
    /// The data directory.
    pub data: &'a Path,
    /// Its encryption keys, if it is encrypted.
    pub keys: Option<Keyring>,
}

impl StoreLocation<'_> {
    fn open(self) -> anyhow::Result<SledStore> {
        SledStore::open_with_keys(self.data, self.keys)
            .with_context(|| format!("opening {} (stop the server first)", self.data.display()))
    }
}

/// `caravan compact`: folds every trip's log into its snapshot; prints what each became.
pub fn compact(location: StoreLocation) -> anyhow::Result<()> {
    let store = location.open()?;
    for trip in store.list()? {
        let report = store.compact(&trip.id)?;
        println!(
            "{}: folded {} updates, {} -> {} bytes",
            trip.id, report.folded, report.bytes_before, report.bytes_after
        );
    }
    store.flush()?;
    Ok(())
}

/// `caravan rekey`: re-encrypts every record with the current key (or decrypts the store).
pub fn rekey(location: StoreLocation) -> anyhow::Result<()> {
    let rewritten = location.open()?.rekey()?;
    println!("re-encrypted {rewritten} records");
    Ok(())
}

/// `caravan export`: a trip's JSON view, to `out` or standard output.
pub fn export(location: StoreLocation, trip: &str, out: Option<&Path>) -> anyhow::Result<()> {
    let trip = TripId::parse(trip)?;
    let store = location.open()?;
    let doc = load_doc(&store, &trip, &Metrics::new())?.doc;
    let read = doc_model::read_trip(&doc);
    let view = read
        .trip
        .with_context(|| format!("there is no trip {trip}"))?;
    for skipped in &read.skipped {
        eprintln!("skipped {}: {}", skipped.path, skipped.reason);
    }
    let json = serde_json::to_string_pretty(&doc_model::trip_view(&view))?;
    match out {
        Some(path) => std::fs::write(path, json + "\n")
            .with_context(|| format!("writing {}", path.display()))?,
        None => println!("{json}"),
    }
    Ok(())
}

/// `caravan import`: creates a trip from a JSON file (`-`: standard input); prints its id.
pub fn import(location: StoreLocation, file: &Path, id: Option<String>) -> anyhow::Result<()> {
    let text = if file == Path::new("-") {
        std::io::read_to_string(std::io::stdin())?
    } else {
        std::fs::read_to_string(file).with_context(|| format!("reading {}", file.display()))?
    };
    let trip = serde_json::from_str(&text)
        .and_then(doc_model::trip_from_view)
        .context("the file is not a trip")?;
    let update = doc_model::encode_trip(&trip).map_err(|problems| {
        let lines: Vec<String> = problems
            .iter()
            .map(|p| format!("  {}: {}", p.path, p.error))
            .collect();
        anyhow::anyhow!("the trip is not valid:\n{}", lines.join("\n"))
    })?;
    let id = TripId::parse(&id.unwrap_or_else(|| uuid::Uuid::new_v4().simple().to_string()))?;
    let store = location.open()?;
    if store.load(&id)?.is_some() {
        anyhow::bail!("a trip {id} exists already");
    }
    let meta = persistence::UpdateMeta {
        at_ms: persistence::now_ms(),
        origin: Some("cli:import".into()),
    };
    store.append(&id, &update, &meta)?;
    store.flush()?;
    println!("{id}");
    Ok(())
}

/// What `caravan token` puts in a token.
pub struct TokenOrder {
    /// The trip, or `*`.
    pub trip: String,
    /// The role.
    pub role: Role,
    /// The user.
    pub sub: String,
    /// The user's family.
    pub family: Option<String>,
    /// Lifetime, such as `15m` or `7d`.
    pub ttl: String,
}

/// `caravan token`: prints a token (HS256) signed with `jwt_secret`.
pub fn token(jwt_secret: &str, order: TokenOrder) -> anyhow::Result<()> {
    let ttl = parse_ttl(Some(&serde_json::Value::String(order.ttl))).map_err(anyhow::Error::msg)?;
    if order.trip != "*" {
        TripId::parse(&order.trip)?;
    }
    let keys = TokenKeys::new(Some(jwt_secret.as_bytes()), None)?.expect("a secret was given");
    let claims = Claims {
        sub: order.sub,
        trip: order.trip,
        role: order.role,
        family: order.family,
        exp: persistence::now_ms() / 1000 + ttl,
        nbf: None,
    };
    println!("{}", keys.mint(&claims)?);
    Ok(())
}

/// `caravan backup` from a stopped server's data directory into `out`.
pub fn backup_offline(location: StoreLocation, out: &Path) -> anyhow::Result<()> {
    let keys = location.keys.clone();
    let store = location.open()?;
    let (partial, mut file) = create_partial(out)?;
    let summary = persistence::backup::write_backup(&store, keys.as_ref(), &mut file)?;
    sync(file)?;
    publish(&partial, out)?;
    println!(
        "backed up {} trips ({} bytes of trip state) to {}",
        summary.trips,
        summary.bytes,
        out.display()
    );
    Ok(())
}

/// `caravan backup --server URL`: downloads `GET /api/backup` from a running server into
/// `out`; the file replaces `out` only once it is checked whole.
pub async fn backup_online(
    server: &str,
    admin_key: Option<&str>,
    out: &Path,
) -> anyhow::Result<()> {
    use std::io::Write;
    let url = format!("{}/api/backup", server.trim_end_matches('/'));
    let mut request = reqwest::Client::new().get(&url);
    if let Some(key) = admin_key {
        request = request.bearer_auth(key);
    }
    let mut response = request
        .send()
        .await
        .with_context(|| format!("asking {url}"))?;
    if !response.status().is_success() {
        let status = response.status();
        anyhow::bail!(
            "{url} answered {status}: {}",
            response.text().await.unwrap_or_default()
        );
    }
    let (partial, mut file) = create_partial(out)?;
    while let Some(chunk) = response.chunk().await.context("downloading the backup")? {
        file.write_all(&chunk)?;
    }
    sync(file)?;
    let trips = persistence::backup::check_backup(&mut std::io::BufReader::new(
        std::fs::File::open(&partial)?,
    ))
    .with_context(|| format!("the download {} is not a whole backup", partial.display()))?;
    publish(&partial, out)?;
    println!("backed up {trips} trips from {server} to {}", out.display());
    Ok(())
}

/// `caravan restore`: reads a backup into a stopped server's data directory (an empty one
/// recreates every trip; a trip already there is merged with the backup's).
pub fn restore(location: StoreLocation, from: &Path) -> anyhow::Result<()> {
    let keys = location.keys.clone();
    let open = || -> anyhow::Result<_> {
        Ok(std::io::BufReader::new(
            std::fs::File::open(from).with_context(|| format!("opening {}", from.display()))?,
        ))
    };
    // The whole file is read (and decrypted) once before anything is written: a cut-off or
    // undecryptable backup restores nothing.
    persistence::backup::read_backup(&mut open()?, keys.as_ref(), |_| Ok(()))
        .with_context(|| format!("reading {}", from.display()))?;
    let store = location.open()?;
    let summary = persistence::backup::restore_backup(&store, keys.as_ref(), &mut open()?)
        .with_context(|| format!("restoring {}", from.display()))?;
    println!(
        "restored {} trips ({} bytes of trip state) from {}",
        summary.trips,
        summary.bytes,
        from.display()
    );
    Ok(())
}

/// A backup is written to `{out}.partial` until it is whole: that path, and the file.
fn create_partial(
    out: &Path,
) -> anyhow::Result<(std::path::PathBuf, std::io::BufWriter<std::fs::File>)> {
    let mut name = out.as_os_str().to_owned();
    name.push(".partial");
    let partial = std::path::PathBuf::from(name);
    let file = std::fs::File::create(&partial)
        .with_context(|| format!("creating {}", partial.display()))?;
    Ok((partial, std::io::BufWriter::new(file)))
}

/// Renames the whole, synced `partial` to `out` and syncs their directory: after a power cut,
/// `out` is the old file or the new one, whole, never a part.
fn publish(partial: &Path, out: &Path) -> anyhow::Result<()> {
    std::fs::rename(partial, out)?;
    let dir = match out.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    persistence::synced_files::sync_dir(dir)
        .with_context(|| format!("syncing the directory {}", dir.display()))?;
    Ok(())
}

/// Writes out what `file` buffers and makes it durable.
fn sync(file: std::io::BufWriter<std::fs::File>) -> anyhow::Result<()> {
    file.into_inner().map_err(|e| e.into_error())?.sync_all()?;
    Ok(())
}
