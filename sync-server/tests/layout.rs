//! The layout of `sync-server/src`, checked: imports run one way (`docs/architecture.md`).
//!
//! Every file's imports (`use` items, and paths written out in code such as
//! `crate::auth::Refusal`) are resolved to the file that defines what they name, following
//! `pub use` re-exports. Then:
//! - no two files import each other, directly or around a circle;
//! - no import goes up the layers: process -> handlers -> state -> a document's life ->
//!   protocol -> settings and metrics;
//! - the document's life and the protocol know nothing of HTTP (no `axum`, no `tower_http`).
//!
//! Test code (`#[cfg(test)]` modules) is left out: tests may reach anywhere.
//!
//! Run it alone with `cargo test -p sync_server --test layout`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use syn::visit::Visit;

/// Layers, top first: a module may import its own layer and those below it.
const LAYERS: &[(&str, usize)] = &[
    ("server", 6),
    ("maintenance", 6),
    ("panic_log", 6),
    ("http", 5),
    ("ws", 5),
    ("state", 4),
    ("auth", 3),
    ("limits", 3),
    ("document", 2),
    ("protocol", 1),
    ("config", 0),
    ("metrics", 0),
];

/// Crates the document's life and the protocol must not use.
const HTTP_CRATES: &[&str] = &["axum", "tower_http", "tower"];

/// A module path inside the crate: `["document", "room"]`; the crate root is `[]`.
type ModPath = Vec<String>;

/// One file of the crate.
struct SourceFile {
    path: PathBuf,
    module: ModPath,
    /// Every path it names (absolute inside the crate), with the first segment of external
    /// ones kept as they are.
    uses: Vec<Vec<String>>,
    /// `pub use` re-exports: the name as seen from outside, and the absolute path it names.
    reexports: BTreeMap<String, Vec<String>>,
}

fn src_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

/// The `src` folder of another crate of the workspace (`ai-bridge`, `doc-model`).
fn workspace_src(folder: &str) -> PathBuf {
    workspace_root().join(folder).join("src")
}

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("sync-server is inside the workspace")
        .to_path_buf()
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The module a file holds, from its place: `a/b.rs` and `a/b/mod.rs` are `a::b`.
fn module_of(file: &Path, src: &Path) -> ModPath {
    let relative = file.strip_prefix(src).unwrap();
    let mut parts: Vec<String> = relative
        .iter()
        .map(|p| p.to_string_lossy().trim_end_matches(".rs").to_owned())
        .collect();
    if parts.last().is_some_and(|p| p == "mod" || p == "lib") {
        parts.pop();
    }
    parts
}

fn is_cfg_test(attrs: &[syn::Attribute]) -> bool {
    attrs.iter().any(|attr| {
        attr.path().is_ident("cfg")
            && attr
                .parse_args::<syn::Meta>()
                .is_ok_and(|meta| meta.path().is_ident("test"))
    })
}

/// Collects the paths a file names.
struct Collector<'a> {
    module: &'a ModPath,
    uses: Vec<Vec<String>>,
    reexports: BTreeMap<String, Vec<String>>,
}

impl Collector<'_> {
    /// A path as written, made absolute when it starts with `crate`, `super` or `self`.
    fn absolute(&self, segments: Vec<String>) -> Vec<String> {
        let mut base: Vec<String> = Vec::new();
        let mut rest = segments.as_slice();
        match rest.first().map(String::as_str) {
            Some("crate") => {
                base.push("crate".into());
                rest = &rest[1..];
            }
            Some("self") => {
                base.push("crate".into());
                base.extend(self.module.iter().cloned());
                rest = &rest[1..];
            }
            Some("super") => {
                let mut module = self.module.clone();
                while rest.first().is_some_and(|s| s == "super") {
                    module.pop();
                    rest = &rest[1..];
                }
                base.push("crate".into());
                base.extend(module);
            }
            _ => {}
        }
        base.extend(rest.iter().cloned());
        base
    }

    fn use_tree(&mut self, prefix: Vec<String>, tree: &syn::UseTree, public: bool) {
        match tree {
            syn::UseTree::Path(p) => {
                let mut prefix = prefix;
                prefix.push(p.ident.to_string());
                self.use_tree(prefix, &p.tree, public);
            }
            syn::UseTree::Name(n) => {
                let name = n.ident.to_string();
                let mut path = prefix;
                if name != "self" {
                    path.push(name.clone());
                }
                let seen_as = path.last().cloned().unwrap_or(name);
                self.named(path, public.then_some(seen_as));
            }
            syn::UseTree::Rename(r) => {
                let mut path = prefix;
                path.push(r.ident.to_string());
                self.named(path, public.then(|| r.rename.to_string()));
            }
            syn::UseTree::Glob(_) => self.named(prefix, None),
            syn::UseTree::Group(g) => {
                for tree in &g.items {
                    self.use_tree(prefix.clone(), tree, public);
                }
            }
        }
    }

    fn named(&mut self, path: Vec<String>, reexported_as: Option<String>) {
        let path = self.absolute(path);
        if let Some(name) = reexported_as {
            self.reexports.insert(name, path.clone());
        }
        self.uses.push(path);
    }
}

impl<'ast> Visit<'ast> for Collector<'_> {
    fn visit_item_mod(&mut self, item: &'ast syn::ItemMod) {
        if !is_cfg_test(&item.attrs) {
            syn::visit::visit_item_mod(self, item);
        }
    }

    fn visit_item_fn(&mut self, item: &'ast syn::ItemFn) {
        if !is_cfg_test(&item.attrs) {
            syn::visit::visit_item_fn(self, item);
        }
    }

    fn visit_item_use(&mut self, item: &'ast syn::ItemUse) {
        if is_cfg_test(&item.attrs) {
            return;
        }
        let public = !matches!(item.vis, syn::Visibility::Inherited);
        self.use_tree(Vec::new(), &item.tree, public);
    }

    fn visit_path(&mut self, path: &'ast syn::Path) {
        let segments: Vec<String> = path.segments.iter().map(|s| s.ident.to_string()).collect();
        if segments.len() > 1 {
            self.uses.push(self.absolute(segments));
        }
        syn::visit::visit_path(self, path);
    }
}

fn read_crate() -> Vec<SourceFile> {
    read_crate_in(&src_dir())
}

/// Every file of the crate whose sources are in `src`.
fn read_crate_in(src: &Path) -> Vec<SourceFile> {
    let mut paths = Vec::new();
    rust_files(src, &mut paths);
    paths.sort();
    paths
        .into_iter()
        // The binary is a crate of its own, and files included as test modules are tests.
        .filter(|p| {
            let name = p.file_name().unwrap().to_string_lossy();
            name != "main.rs" && !name.ends_with("_tests.rs")
        })
        .map(|path| {
            let text = std::fs::read_to_string(&path).unwrap();
            let syntax = syn::parse_file(&text)
                .unwrap_or_else(|e| panic!("{} does not parse: {e}", path.display()));
            let module = module_of(&path, src);
            let mut collector = Collector {
                module: &module,
                uses: Vec::new(),
                reexports: BTreeMap::new(),
            };
            collector.visit_file(&syntax);
            let (uses, reexports) = (collector.uses, collector.reexports);
            SourceFile {
                path,
                module,
                uses,
                reexports,
            }
        })
        .collect()
}

/// The crate's files, indexed by module, and the file each absolute path lands in.
struct Crate {
    files: Vec<SourceFile>,
    by_module: BTreeMap<ModPath, usize>,
}

impl Crate {
    fn new(mut files: Vec<SourceFile>) -> Crate {
        let by_module: BTreeMap<ModPath, usize> = files
            .iter()
            .enumerate()
            .map(|(i, f)| (f.module.clone(), i))
            .collect();
        // `use child::Thing` names a child module of the file's own (Rust 2018 paths).
        for file in &mut files {
            let module = file.module.clone();
            let anchor = |path: &mut Vec<String>| {
                let mut child = module.clone();
                child.push(path[0].clone());
                if path[0] != "crate" && by_module.contains_key(&child) {
                    let mut absolute = vec!["crate".to_owned()];
                    absolute.extend(module.iter().cloned());
                    absolute.append(path);
                    *path = absolute;
                }
            };
            file.uses.iter_mut().for_each(&anchor);
            file.reexports.values_mut().for_each(&anchor);
        }
        Crate { files, by_module }
    }

    /// The file that defines what `path` (absolute, starting with `crate`) names.
    fn resolve(&self, path: &[String], depth: usize) -> Option<usize> {
        assert!(depth < 16, "re-exports go round in a circle at {path:?}");
        let mut module: ModPath = Vec::new();
        for (i, segment) in path.iter().enumerate().skip(1) {
            let mut deeper = module.clone();
            deeper.push(segment.clone());
            if self.by_module.contains_key(&deeper) {
                module = deeper;
                continue;
            }
            let here = *self.by_module.get(&module)?;
            if let Some(target) = self.files[here].reexports.get(segment) {
                let mut followed = target.clone();
                followed.extend(path[i + 1..].iter().cloned());
                if followed.first().is_some_and(|s| s == "crate") {
                    return self.resolve(&followed, depth + 1);
                }
            }
            return Some(here);
        }
        self.by_module.get(&module).copied()
    }

    /// Import arrows between files (a file's arrows to itself left out).
    fn edges(&self) -> BTreeMap<usize, BTreeSet<usize>> {
        let mut edges: BTreeMap<usize, BTreeSet<usize>> = BTreeMap::new();
        for (from, file) in self.files.iter().enumerate() {
            for path in file.uses.iter().filter(|p| p[0] == "crate") {
                if let Some(to) = self.resolve(path, 0).filter(|&to| to != from) {
                    edges.entry(from).or_default().insert(to);
                }
            }
        }
        edges
    }

    fn name(&self, file: usize) -> String {
        let path = &self.files[file].path;
        path.strip_prefix(workspace_root())
            .unwrap()
            .to_string_lossy()
            .into_owned()
    }
}

/// A circle of imports, if there is one, as the files around it.
fn find_circle(edges: &BTreeMap<usize, BTreeSet<usize>>, count: usize) -> Option<Vec<usize>> {
    // 0: not seen, 1: on the current path, 2: done.
    let mut state = vec![0u8; count];
    let mut path = Vec::new();
    fn visit(
        node: usize,
        edges: &BTreeMap<usize, BTreeSet<usize>>,
        state: &mut [u8],
        path: &mut Vec<usize>,
    ) -> Option<Vec<usize>> {
        state[node] = 1;
        path.push(node);
        for &next in edges.get(&node).into_iter().flatten() {
            if state[next] == 1 {
                let start = path.iter().position(|&n| n == next).unwrap();
                let mut circle = path[start..].to_vec();
                circle.push(next);
                return Some(circle);
            }
            if state[next] == 0 {
                if let Some(circle) = visit(next, edges, state, path) {
                    return Some(circle);
                }
            }
        }
        path.pop();
        state[node] = 2;
        None
    }
    (0..count).find_map(|start| {
        if state[start] == 0 {
            visit(start, edges, &mut state, &mut path)
        } else {
            None
        }
    })
}

fn layer_of(module: &ModPath) -> Option<usize> {
    let top = module.first()?;
    LAYERS
        .iter()
        .find(|(name, _)| name == top)
        .map(|&(_, rank)| rank)
}

#[test]
fn no_file_imports_one_that_imports_it_back() {
    let krate = Crate::new(read_crate());
    let edges = krate.edges();
    let arrows: usize = edges.values().map(BTreeSet::len).sum();
    assert!(
        krate.files.len() > 30 && arrows > 60,
        "the checker found {} files and {arrows} arrows: it is not reading the crate",
        krate.files.len()
    );
    if let Some(circle) = find_circle(&edges, krate.files.len()) {
        let names: Vec<String> = circle.iter().map(|&f| krate.name(f)).collect();
        panic!("a circle of imports: {}", names.join(" -> "));
    }
}

#[test]
fn imports_run_down_the_layers() {
    let krate = Crate::new(read_crate());
    let mut wrong = Vec::new();
    for (&from, targets) in &krate.edges() {
        let Some(from_layer) = layer_of(&krate.files[from].module) else {
            continue;
        };
        for &to in targets {
            let to_layer = layer_of(&krate.files[to].module)
                .unwrap_or_else(|| panic!("{} is in no layer of LAYERS", krate.name(to)));
            if to_layer > from_layer {
                wrong.push(format!("{} -> {}", krate.name(from), krate.name(to)));
            }
        }
    }
    for file in &krate.files {
        assert!(
            file.module.is_empty() || layer_of(&file.module).is_some(),
            "{} is in no layer: add its module to LAYERS",
            krate.name(krate.by_module[&file.module])
        );
    }
    assert!(wrong.is_empty(), "imports going up: {wrong:#?}");
}

#[test]
fn the_document_life_and_the_protocol_know_nothing_of_http() {
    let krate = Crate::new(read_crate());
    let mut wrong = Vec::new();
    for file in &krate.files {
        if !matches!(
            file.module.first().map(String::as_str),
            Some("document" | "protocol")
        ) {
            continue;
        }
        for path in &file.uses {
            let external_http = HTTP_CRATES.contains(&path[0].as_str());
            let internal_http = path[0] == "crate"
                && matches!(
                    path.get(1).map(String::as_str),
                    Some("http" | "ws" | "state")
                );
            if external_http || internal_http {
                wrong.push(format!("{}: {}", file.path.display(), path.join("::")));
            }
        }
    }
    assert!(wrong.is_empty(), "HTTP below the handlers: {wrong:#?}");
}

#[test]
fn the_checker_sees_a_circle_and_a_re_export() {
    // Two files that import each other, one of them through its parent's re-export.
    let module = |m: &[&str]| m.iter().map(|s| s.to_string()).collect::<ModPath>();
    let parse = |m: ModPath, text: &str| {
        let syntax = syn::parse_file(text).unwrap();
        let mut collector = Collector {
            module: &m,
            uses: Vec::new(),
            reexports: BTreeMap::new(),
        };
        collector.visit_file(&syntax);
        SourceFile {
            path: src_dir().join(m.join("/") + ".rs"),
            uses: collector.uses,
            reexports: collector.reexports,
            module: m,
        }
    };
    let krate = Crate::new(vec![
        parse(module(&["a"]), "pub use b::Thing;"),
        parse(
            module(&["a", "b"]),
            "pub struct Thing; use super::c::Other;",
        ),
        parse(module(&["a", "c"]), "fn f() -> crate::a::Thing { todo!() }"),
    ]);
    let edges = krate.edges();
    assert_eq!(edges[&2], BTreeSet::from([1]), "a::Thing is defined in a/b");
    let circle = find_circle(&edges, 3).expect("b and c import each other");
    assert_eq!(circle.len(), 3);
}

/// Layers of the assistant (`ai-bridge/src/lib.rs`), top first.
const ASSISTANT_LAYERS: &[(&str, usize)] = &[
    ("runner", 4),
    ("link", 3),
    ("reactions", 3),
    ("llm", 2),
    ("language", 2),
    ("planner", 1),
    ("identity", 0),
    ("metrics", 0),
];

/// The imports of the crate in `src` that go up `layers` or around a circle.
fn wrong_imports(src: &Path, layers: &[(&str, usize)]) -> Vec<String> {
    let krate = Crate::new(read_crate_in(src));
    let edges = krate.edges();
    assert!(
        krate.files.len() > 5 && edges.values().map(BTreeSet::len).sum::<usize>() > 5,
        "the checker is not reading {}",
        src.display()
    );
    let mut wrong = Vec::new();
    if let Some(circle) = find_circle(&edges, krate.files.len()) {
        let names: Vec<String> = circle.iter().map(|&f| krate.name(f)).collect();
        wrong.push(format!("a circle: {}", names.join(" -> ")));
    }
    let layer = |module: &ModPath| {
        let top = module.first()?;
        layers.iter().find(|(n, _)| n == top).map(|&(_, rank)| rank)
    };
    for (&from, targets) in &edges {
        let Some(from_layer) = layer(&krate.files[from].module) else {
            continue;
        };
        for &to in targets {
            match layer(&krate.files[to].module) {
                Some(to_layer) if to_layer > from_layer => {
                    wrong.push(format!("up: {} -> {}", krate.name(from), krate.name(to)))
                }
                None if !krate.files[to].module.is_empty() => {
                    wrong.push(format!("{} is in no layer", krate.name(to)))
                }
                _ => {}
            }
        }
    }
    wrong
}

#[test]
fn the_assistant_imports_run_one_way() {
    let wrong = wrong_imports(&workspace_src("ai-bridge"), ASSISTANT_LAYERS);
    assert!(wrong.is_empty(), "ai-bridge: {wrong:#?}");
}

/// Layers of the trip model (`doc-model/src/lib.rs`), top first.
const TRIP_MODEL_LAYERS: &[(&str, usize)] = &[
    ("import", 4),
    ("trip_doc", 3),
    ("view", 3),
    ("read", 2),
    ("conflicts", 2),
    ("tally", 2),
    ("sample", 2),
    ("validate", 2),
    ("types", 1),
    ("time", 0),
    ("convert", 0),
    ("roots", 0),
];

#[test]
fn the_trip_model_imports_run_one_way() {
    let wrong = wrong_imports(&workspace_src("doc-model"), TRIP_MODEL_LAYERS);
    assert!(wrong.is_empty(), "doc-model: {wrong:#?}");
}
