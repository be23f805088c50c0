//! Refusals: an attack the runtime cannot apply exactly as written is refused with an error
//! that names the attack, the field and the reason, and nothing of its input runs.
#![cfg(feature = "enabled")]

use std::time::Duration;

use fault_runtime::{Attack, AttackGuard, AttackState, SourceError, fault_point};

fault_runtime::context_facets!(customer);

/// The problems of a refused input, in the order the runtime found them.
fn refused(outcome: Result<Vec<AttackGuard>, SourceError>) -> SourceError {
    match outcome {
        Ok(guards) => panic!(
            "the input was accepted: {:?}",
            guards.iter().map(AttackGuard::id).collect::<Vec<_>>()
        ),
        Err(error) => error,
    }
}

/// Asserts that one problem names this attack and field, and gives a reason with `needle`.
fn assert_problem(error: &SourceError, id: &str, field: &str, needle: &str) {
    let found = error.problems().iter().any(|problem| {
        problem.attack_id() == Some(id)
            && problem.field() == Some(field)
            && problem.reason().contains(needle)
    });
    assert!(
        found,
        "no problem names attack `{id}`, field `{field}` and `{needle}`:\n{error}"
    );
    let shown = error.to_string();
    assert!(shown.contains(&format!("attack `{id}`")), "{shown}");
    assert!(shown.contains(&format!("field `{field}`")), "{shown}");
}

/// Asserts that no attack with this id runs, or ever ran.
fn assert_never_started(id: &str) {
    let statuses = fault_runtime::attacks();
    assert!(
        statuses.iter().all(|status| status.id != id),
        "attack `{id}` is listed: {statuses:?}"
    );
}

#[test]
fn an_unknown_point_is_refused() {
    let error = refused(fault_runtime::start_toml(
        "[[attack]]\nid = \"refuse-unknown-point\"\npoint = \"refuse.no_such_point\"\n\
         error = \"x\"\n",
    ));
    assert_problem(
        &error,
        "refuse-unknown-point",
        "point",
        "refuse.no_such_point",
    );
    assert_never_started("refuse-unknown-point");
}

#[test]
fn a_glob_that_matches_no_point_is_refused() {
    let error = refused(fault_runtime::start_toml(
        "[[attack]]\nid = \"refuse-empty-glob\"\npoint = \"nowhere.*\"\nerror = \"x\"\n",
    ));
    assert_problem(&error, "refuse-empty-glob", "point", "matches no point");
    assert_never_started("refuse-empty-glob");
}

#[fault_point(name = "refuse.facet_key", facets(customer))]
fn facet_key(customer: &str) -> Result<(), String> {
    let _ = customer;
    Ok(())
}

#[test]
fn an_unknown_facet_key_is_refused() {
    let error = refused(fault_runtime::start_toml(
        r#"
        [[attack]]
        id = "refuse-facet-key"
        point = "refuse.facet_key"
        facets = { customer = "c-1", colour = "red" }
        error = "x"
        "#,
    ));
    assert_problem(&error, "refuse-facet-key", "facets", "colour");
    assert_never_started("refuse-facet-key");
    assert!(facet_key("c-1").is_ok());
}

#[fault_point(name = "refuse.sticky_key", facets(customer))]
fn sticky_key(customer: &str) -> Result<(), String> {
    let _ = customer;
    Ok(())
}

#[test]
fn an_unknown_sticky_key_is_refused() {
    let attack = Attack::builder("refuse-sticky-key", "refuse.sticky_key")
        .error("x")
        .percent(50.0)
        .sticky("tenant")
        .build()
        .unwrap();
    let error = fault_runtime::start(attack).unwrap_err();
    assert_eq!(error.attack_id(), Some("refuse-sticky-key"));
    assert_eq!(error.field(), Some("sticky"));
    assert!(error.reason().contains("tenant"), "{error}");
    assert_never_started("refuse-sticky-key");
    for n in 0..20 {
        assert!(sticky_key(&format!("c-{n}")).is_ok());
    }
}

#[fault_point(name = "refuse.unit")]
fn returns_unit() {}

#[fault_point(name = "refuse.count")]
fn returns_count() -> u32 {
    3
}

#[test]
fn an_error_attack_on_a_point_that_cannot_carry_one_is_refused() {
    for (id, point) in [
        ("refuse-error-unit", "refuse.unit"),
        ("refuse-error-count", "refuse.count"),
    ] {
        let attack = Attack::builder(id, point).error("x").build().unwrap();
        let error = fault_runtime::start(attack).unwrap_err();
        assert_eq!(error.attack_id(), Some(id));
        assert_eq!(error.field(), Some("error"));
        assert!(error.reason().contains(point), "{error}");
        assert_never_started(id);
    }
    returns_unit();
    assert_eq!(returns_count(), 3);

    // The same points take latency and panic attacks.
    let latency = Attack::builder("refuse-unit-latency", "refuse.unit")
        .latency(Duration::from_millis(1))
        .build()
        .unwrap();
    let guard = fault_runtime::start(latency).expect("latency fits any point");
    returns_unit();
    assert_eq!(guard.status().hits, 1);
}

#[fault_point(name = "refuse.glob.can_error")]
fn glob_can_error() -> Result<(), String> {
    Ok(())
}

#[fault_point(name = "refuse.glob.cannot_error")]
fn glob_cannot_error() {}

#[test]
fn an_error_attack_on_a_glob_is_refused_when_any_point_cannot_carry_it() {
    let error = refused(fault_runtime::start_toml(
        "[[attack]]\nid = \"refuse-glob-error\"\npoint = \"refuse.glob.*\"\nerror = \"x\"\n",
    ));
    assert_problem(
        &error,
        "refuse-glob-error",
        "error",
        "refuse.glob.cannot_error",
    );
    assert_never_started("refuse-glob-error");
    assert!(glob_can_error().is_ok());
    glob_cannot_error();
}

#[fault_point(name = "refuse.percent")]
fn percent_point() -> Result<(), String> {
    Ok(())
}

#[test]
fn a_percent_outside_zero_to_a_hundred_is_refused() {
    for (id, percent) in [
        ("refuse-percent-zero", "0"),
        ("refuse-percent-over", "150"),
        ("refuse-percent-negative", "-5"),
    ] {
        let error = refused(fault_runtime::start_toml(&format!(
            "[[attack]]\nid = \"{id}\"\npoint = \"refuse.percent\"\nerror = \"x\"\n\
             percent = {percent}\n"
        )));
        assert_problem(&error, id, "percent", percent);
        assert_never_started(id);
    }
    let error = Attack::builder("refuse-percent-builder", "refuse.percent")
        .error("x")
        .percent(0.0)
        .build()
        .unwrap_err();
    assert_eq!(error.field(), Some("percent"));
    for _ in 0..20 {
        assert!(percent_point().is_ok());
    }
}

#[fault_point(name = "refuse.duration")]
fn duration_point() -> Result<(), String> {
    Ok(())
}

#[test]
fn a_duration_over_the_maximum_is_refused() {
    let error = refused(fault_runtime::start_toml(
        "[[attack]]\nid = \"refuse-duration\"\npoint = \"refuse.duration\"\nerror = \"x\"\n\
         duration = \"25h\"\n",
    ));
    assert_problem(&error, "refuse-duration", "duration", "maximum");
    assert_never_started("refuse-duration");

    let error = Attack::builder("refuse-duration-builder", "refuse.duration")
        .error("x")
        .duration(fault_runtime::MAX_DURATION + Duration::from_secs(1))
        .build()
        .unwrap_err();
    assert_eq!(error.field(), Some("duration"));
    assert!(duration_point().is_ok());
}

#[fault_point(name = "refuse.latency")]
fn latency_point() -> u8 {
    1
}

#[test]
fn a_latency_range_with_min_over_max_is_refused() {
    let error = refused(fault_runtime::start_toml(
        r#"
        [[attack]]
        id = "refuse-latency"
        point = "refuse.latency"
        latency = { min = "2s", max = "1s" }
        "#,
    ));
    assert_problem(&error, "refuse-latency", "latency", "greater than max");
    assert_never_started("refuse-latency");
    assert_eq!(latency_point(), 1);
    let point = fault_runtime::catalog()
        .into_iter()
        .find(|p| p.name == "refuse.latency")
        .unwrap();
    assert_eq!((point.hits, point.attacks), (0, 0));
}

#[fault_point(name = "refuse.unknown_field")]
fn unknown_field_point() -> Result<(), String> {
    Ok(())
}

#[test]
fn an_unknown_field_is_refused() {
    let error = refused(fault_runtime::start_toml(
        "[[attack]]\nid = \"refuse-unknown-field\"\npoint = \"refuse.unknown_field\"\n\
         error = \"x\"\npercnt = 10\n",
    ));
    let problem = error
        .problems()
        .iter()
        .find(|p| p.field() == Some("percnt"))
        .unwrap_or_else(|| panic!("no problem names `percnt`:\n{error}"));
    assert_eq!(problem.attack_id(), Some("refuse-unknown-field"));
    assert!(problem.reason().contains("unknown field"), "{error}");
    assert!(
        problem.reason().contains("percent"),
        "lists the known fields: {error}"
    );
    assert_never_started("refuse-unknown-field");
    assert!(unknown_field_point().is_ok());
}

#[fault_point(name = "refuse.missing_id")]
fn missing_id_point() -> Result<(), String> {
    Ok(())
}

#[test]
fn an_attack_without_an_id_is_refused_and_named_by_its_position() {
    let error = refused(fault_runtime::start_toml(
        "[[attack]]\nid = \"refuse-missing-id-first\"\npoint = \"refuse.missing_id\"\n\
         error = \"x\"\n\n[[attack]]\npoint = \"refuse.missing_id\"\nerror = \"y\"\n",
    ));
    assert_problem(&error, "#2", "id", "required");
    assert_eq!(error.problems()[0].line(), Some(6));
    assert_never_started("refuse-missing-id-first");
    assert!(
        fault_runtime::attacks()
            .iter()
            .all(|a| a.point != "refuse.missing_id")
    );
    assert!(missing_id_point().is_ok());
}

#[fault_point(name = "refuse.bad_id")]
fn bad_id_point() -> Result<(), String> {
    Ok(())
}

#[test]
fn an_id_with_characters_outside_the_allowed_set_is_refused() {
    for id in ["refuse bad id", "refuse/bad", "refuse-bad-é", ""] {
        let error = refused(fault_runtime::start_json(&format!(
            r#"{{"attack": [{{"id": "{id}", "point": "refuse.bad_id", "error": "x"}}]}}"#
        )));
        assert_problem(&error, id, "id", "");
        assert_never_started(id);
    }
    assert!(
        fault_runtime::attacks()
            .iter()
            .all(|a| a.point != "refuse.bad_id")
    );
    assert!(bad_id_point().is_ok());
}

#[fault_point(name = "refuse.duplicate_id", facets(customer))]
fn duplicate_id_point(customer: &str) -> Result<(), String> {
    let _ = customer;
    Ok(())
}

#[test]
fn two_attacks_with_one_id_in_one_text_are_refused() {
    let error = refused(fault_runtime::start_toml(
        r#"
        [[attack]]
        id = "refuse-duplicate"
        point = "refuse.duplicate_id"
        facets = { customer = "c-1" }
        error = "x"

        [[attack]]
        id = "refuse-duplicate"
        point = "refuse.duplicate_id"
        facets = { customer = "c-2" }
        error = "y"
        "#,
    ));
    assert_problem(&error, "refuse-duplicate", "id", "same");
    assert_never_started("refuse-duplicate");
    assert!(duplicate_id_point("c-1").is_ok());
    assert!(duplicate_id_point("c-2").is_ok());
}

#[fault_point(name = "refuse.running_id", facets(customer))]
fn running_id_point(customer: &str) -> Result<(), String> {
    let _ = customer;
    Ok(())
}

#[test]
fn an_id_that_is_already_running_is_refused_and_the_running_attack_is_unchanged() {
    let first = fault_runtime::start(
        Attack::builder("refuse-running", "refuse.running_id")
            .facet("customer", "c-1")
            .error("first")
            .build()
            .unwrap(),
    )
    .unwrap();
    let second = Attack::builder("refuse-running", "refuse.running_id")
        .facet("customer", "c-2")
        .error("second")
        .build()
        .unwrap();
    let error = fault_runtime::start(second).unwrap_err();
    assert_eq!(error.attack_id(), Some("refuse-running"));
    assert_eq!(error.field(), Some("id"));
    assert!(error.reason().contains("already running"), "{error}");

    assert_eq!(running_id_point("c-1"), Err("first".to_owned()));
    assert!(running_id_point("c-2").is_ok());
    let listed: Vec<_> = fault_runtime::attacks()
        .into_iter()
        .filter(|a| a.id == "refuse-running")
        .collect();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].attack.error(), Some("first"));
    assert_eq!(listed[0].state, AttackState::Running);
    drop(first);
}

#[fault_point(name = "refuse.all_or_none.good", facets(customer))]
fn all_or_none_good(customer: &str) -> Result<(), String> {
    let _ = customer;
    Ok(())
}

#[fault_point(name = "refuse.all_or_none.bad")]
fn all_or_none_bad() -> Result<(), String> {
    Ok(())
}

#[test]
fn a_text_with_one_good_and_one_bad_attack_starts_neither() {
    // The second attack is fine as text and fails only against the catalog.
    let error = refused(fault_runtime::start_toml(
        r#"
        [[attack]]
        id = "refuse-all-good"
        point = "refuse.all_or_none.good"
        facets = { customer = "c-1" }
        error = "x"

        [[attack]]
        id = "refuse-all-bad"
        point = "refuse.all_or_none.bad"
        facets = { region = "eu" }
        error = "y"
        "#,
    ));
    assert_problem(&error, "refuse-all-bad", "facets", "region");
    assert_eq!(error.problems().len(), 1, "{error}");
    assert_never_started("refuse-all-good");
    assert_never_started("refuse-all-bad");
    assert!(all_or_none_good("c-1").is_ok());
    assert!(all_or_none_bad().is_ok());

    // And one that fails as text.
    let error = refused(fault_runtime::start_json(
        r#"{"attack": [
            {"id": "refuse-all-good-2", "point": "refuse.all_or_none.good", "error": "x"},
            {"id": "refuse-all-bad-2", "point": "refuse.all_or_none.bad", "percent": 0,
             "error": "y"}
        ]}"#,
    ));
    assert_problem(&error, "refuse-all-bad-2", "percent", "0");
    assert_never_started("refuse-all-good-2");
    assert_never_started("refuse-all-bad-2");
    assert!(all_or_none_good("c-1").is_ok());
}

#[fault_point(name = "refuse.bad_toml")]
fn bad_toml_point() -> Result<(), String> {
    Ok(())
}

#[test]
fn malformed_toml_is_refused_with_its_line() {
    let error = refused(fault_runtime::start_toml(
        "[[attack]]\nid = \"refuse-bad-toml-1\"\npoint = \"refuse.bad_toml\"\nerror = \"x\"\n\n\
         [[attack]]\nid = \"refuse-bad-toml\"\npoint = \"refuse.bad_toml\"\nerror = \"x\n",
    ));
    let problem = &error.problems()[0];
    assert!(problem.reason().contains("TOML"), "{error}");
    assert_eq!(problem.line(), Some(9), "{error}");
    assert!(error.to_string().contains("line 9"), "{error}");
    assert_never_started("refuse-bad-toml-1");
    assert_never_started("refuse-bad-toml");
    assert!(bad_toml_point().is_ok());
}

#[fault_point(name = "refuse.bad_json")]
fn bad_json_point() -> Result<(), String> {
    Ok(())
}

#[test]
fn malformed_json_is_refused_with_its_line() {
    let error = refused(fault_runtime::start_json(
        "{\"attack\": [\n  {\"id\": \"refuse-bad-json\",\n   \"point\": \"refuse.bad_json\"\n   \
         \"error\": \"x\"}\n]}",
    ));
    let problem = &error.problems()[0];
    assert!(problem.reason().contains("JSON"), "{error}");
    assert_eq!(problem.line(), Some(4), "{error}");
    assert!(error.to_string().contains("line 4"), "{error}");
    assert_never_started("refuse-bad-json");
    assert!(bad_json_point().is_ok());
}

#[test]
fn a_catalog_refusal_of_toml_text_names_the_line_of_its_attack() {
    let error = refused(fault_runtime::start_toml(
        "# drill\n[[attack]]\nid = \"refuse-lined\"\npoint = \"refuse.no_such_point\"\n\
         error = \"x\"\n",
    ));
    let problem = &error.problems()[0];
    assert_eq!(problem.field(), Some("point"), "{error}");
    assert_eq!(problem.line(), Some(2), "{error}");
    assert_eq!(error.origin(), "api", "{error}");
}
