//! The built-in catalog parses, offers BitNet b1.58 2B4T first, and only lists files this engine
//! can load.

use bitnet_tui::hub::catalog::{Catalog, CatalogError, ModelKind};

#[test]
fn the_builtin_catalog_parses_with_the_default_first() {
    let catalog = Catalog::builtin();
    let default = catalog.default_entry();
    assert_eq!(default, &catalog.entries()[0]);
    assert_eq!(default.repo, "microsoft/bitnet-b1.58-2B-4T-gguf");
    assert_eq!(default.file, "ggml-model-i2_s.gguf");
    assert_eq!((default.architecture.as_str(), default.quant.as_str()), ("bitnet-b1.58", "I2_S"));
    assert_eq!(default.kind, ModelKind::Instruct);
    assert!(catalog.entries().len() >= 3);
}

#[test]
fn every_entry_is_one_the_engine_runs() {
    for e in Catalog::builtin().entries() {
        assert!(
            ["bitnet-b1.58", "llama"].contains(&e.architecture.as_str()),
            "{}: architecture {}",
            e.id,
            e.architecture
        );
        assert!(
            ["I2_S", "TQ1_0", "TQ2_0", "Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q8_0", "Q6_K", "F16", "BF16", "F32"]
                .contains(&e.quant.as_str()),
            "{}: quant {}",
            e.id,
            e.quant
        );
        assert!(e.file.ends_with(".gguf"), "{}", e.id);
        assert!(e.size_bytes > 0 && !e.license.is_empty() && !e.description.is_empty(), "{}", e.id);
    }
}

#[test]
fn lookups_ignore_repo_case() {
    let catalog = Catalog::builtin();
    let entry = catalog.find_repo("Microsoft/BitNet-b1.58-2B-4T-GGUF").expect("found");
    assert_eq!(entry.file, "ggml-model-i2_s.gguf");
    assert!(catalog.find_file(&entry.repo, "other.gguf").is_none());
    assert!(catalog.find_repo("nobody/nothing").is_none());
}

#[test]
fn bad_catalogs_are_rejected() {
    let entry = |id: &str, repo: &str| {
        format!(
            "[[model]]\nid = \"{id}\"\nname = \"n\"\nrepo = \"{repo}\"\nfile = \"f.gguf\"\n\
             size_bytes = 1\narchitecture = \"llama\"\nquant = \"Q8_0\"\nkind = \"base\"\n\
             license = \"MIT\"\ndescription = \"d\"\n"
        )
    };
    assert!(Catalog::parse(&entry("a", "org/m")).is_ok());
    assert!(matches!(Catalog::parse("model = []"), Err(CatalogError::Empty)));
    let dup = entry("a", "org/m") + &entry("a", "org/n");
    assert!(matches!(Catalog::parse(&dup), Err(CatalogError::Entry { .. })));
    let err = Catalog::parse(&entry("a", "../x")).unwrap_err();
    assert!(err.to_string().contains("invalid repo id"), "{err}");
    assert!(matches!(Catalog::parse("[[model]]\nid = 1"), Err(CatalogError::Toml(_))));
}
