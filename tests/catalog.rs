//! The catalog: every point of the binary, with what it can take, known before any runs.
//!
//! One test, so that nothing in this process calls a point before the catalog is read.
#![cfg(feature = "enabled")]

use fault_runtime::{Attack, PointInfo, fault_point};

#[fault_point(name = "catalog.charge", facets(customer, country = region.to_uppercase()))]
fn charge(customer: &str, region: &str) -> Result<u32, String> {
    let _ = (customer, region);
    Ok(1)
}

#[fault_point(name = "catalog.find", facets(key))]
fn find(key: u32) -> Option<u32> {
    Some(key)
}

#[fault_point(name = "catalog.notify")]
fn notify() {}

#[fault_point(name = "catalog.fetch")]
async fn fetch() -> Result<(), String> {
    Ok(())
}

#[fault_point]
fn unnamed() -> u8 {
    0
}

/// The line of this file that declares `fn {name}(`.
fn line_of(name: &str) -> u32 {
    let needle = format!("fn {name}(");
    let index = include_str!("catalog.rs")
        .lines()
        .position(|line| line.starts_with(&needle) || line.starts_with(&format!("async {needle}")))
        .unwrap_or_else(|| panic!("no line declares {needle}"));
    u32::try_from(index).unwrap() + 1
}

fn entry(name: &str) -> PointInfo {
    fault_runtime::catalog()
        .into_iter()
        .find(|p| p.name == name)
        .unwrap_or_else(|| panic!("point {name} is in the catalog"))
}

#[test]
fn the_catalog_lists_every_point_before_any_runs() {
    let catalog = fault_runtime::catalog();
    let names: Vec<&str> = catalog.iter().map(|p| p.name).collect();
    let default_name = concat!(module_path!(), "::unnamed");
    let mut expected = vec![
        "catalog.charge",
        "catalog.fetch",
        "catalog.find",
        "catalog.notify",
        default_name,
    ];
    expected.sort_unstable();
    assert_eq!(names, expected, "the catalog is sorted by name");

    for (name, function, keys, can_error, is_async) in [
        (
            "catalog.charge",
            "charge",
            &["customer", "country"][..],
            true,
            false,
        ),
        ("catalog.find", "find", &["key"][..], true, false),
        ("catalog.notify", "notify", &[][..], false, false),
        ("catalog.fetch", "fetch", &[][..], true, true),
        (default_name, "unnamed", &[][..], false, false),
    ] {
        let point = entry(name);
        assert_eq!(point.facet_keys, keys, "{name}");
        assert_eq!(point.impacts.error, can_error, "{name}");
        assert!(point.impacts.latency && point.impacts.panic, "{name}");
        assert_eq!(point.is_async, is_async, "{name}");
        assert_eq!(point.file, "tests/catalog.rs", "{name}");
        assert_eq!(point.line, line_of(function), "{name}");
        assert_eq!(point.module_path, module_path!(), "{name}");
        assert_eq!((point.hits, point.attacks), (0, 0), "{name}");
    }

    // Hits grow with impacts, and only with impacts.
    assert_eq!(charge("c-1", "nl"), Ok(1));
    assert_eq!(entry("catalog.charge").hits, 0);
    let guard = fault_runtime::start(
        Attack::builder("catalog-charge", "catalog.charge")
            .facet("country", "NL")
            .error("drill")
            .build()
            .unwrap(),
    )
    .unwrap();
    assert_eq!(entry("catalog.charge").attacks, 1);
    for _ in 0..3 {
        assert!(charge("c-1", "nl").is_err());
        assert!(charge("c-1", "de").is_ok());
    }
    assert_eq!(entry("catalog.charge").hits, 3);
    drop(guard);
    assert_eq!(entry("catalog.charge").attacks, 0);
    assert_eq!(entry("catalog.charge").hits, 3);

    assert_eq!(find(2), Some(2));
    notify();
    assert_eq!(unnamed(), 0);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    assert_eq!(runtime.block_on(fetch()), Ok(()));
    for name in [
        "catalog.find",
        "catalog.notify",
        "catalog.fetch",
        default_name,
    ] {
        assert_eq!(entry(name).hits, 0, "{name}");
    }

    // A default name, with its `::`, is a name attacks can aim at.
    let guard = fault_runtime::start(
        Attack::builder("catalog-unnamed", default_name)
            .panic("drill")
            .build()
            .unwrap(),
    )
    .unwrap();
    assert!(std::panic::catch_unwind(unnamed).is_err());
    assert_eq!(entry(default_name).hits, 1);
    drop(guard);
    assert_eq!(unnamed(), 0);
}
