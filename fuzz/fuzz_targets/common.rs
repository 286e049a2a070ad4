//! Shared by the fuzz targets: the bundled rulebooks, checked once.

use rulebook::eval::Executable;
use std::sync::OnceLock;

pub const BUNDLED: &[(&str, &str)] = &[
    (
        "rulebooks/dental-client-fees/2018-21.rulebook",
        include_str!("../../rulebooks/dental-client-fees/2018-21.rulebook"),
    ),
    (
        "rulebooks/dental-client-fees/2022-23.rulebook",
        include_str!("../../rulebooks/dental-client-fees/2022-23.rulebook"),
    ),
    (
        "rulebooks/helsinki-dental-voucher/2021.rulebook",
        include_str!("../../rulebooks/helsinki-dental-voucher/2021.rulebook"),
    ),
    (
        "rulebooks/helsinki-dental-voucher/2022.rulebook",
        include_str!("../../rulebooks/helsinki-dental-voucher/2022.rulebook"),
    ),
    (
        "rulebooks/helsinki-home-care/2021.rulebook",
        include_str!("../../rulebooks/helsinki-home-care/2021.rulebook"),
    ),
    (
        "rulebooks/helsinki-home-care/2022-23.rulebook",
        include_str!("../../rulebooks/helsinki-home-care/2022-23.rulebook"),
    ),
    (
        "rulebooks/helsinki-home-care/2024-25.rulebook",
        include_str!("../../rulebooks/helsinki-home-care/2024-25.rulebook"),
    ),
    (
        "rulebooks/helsinki-service-housing/2024.rulebook",
        include_str!("../../rulebooks/helsinki-service-housing/2024.rulebook"),
    ),
    (
        "rulebooks/keusote-dental/2018.rulebook",
        include_str!("../../rulebooks/keusote-dental/2018.rulebook"),
    ),
    (
        "rulebooks/keusote-dental/2019.rulebook",
        include_str!("../../rulebooks/keusote-dental/2019.rulebook"),
    ),
    (
        "rulebooks/keusote-primary-care/2017-19.rulebook",
        include_str!("../../rulebooks/keusote-primary-care/2017-19.rulebook"),
    ),
    (
        "rulebooks/keusote-primary-care/2020.rulebook",
        include_str!("../../rulebooks/keusote-primary-care/2020.rulebook"),
    ),
    (
        "rulebooks/keusote-savings-bonus/2019.rulebook",
        include_str!("../../rulebooks/keusote-savings-bonus/2019.rulebook"),
    ),
    (
        "rulebooks/payment-ceiling/2020-21.rulebook",
        include_str!("../../rulebooks/payment-ceiling/2020-21.rulebook"),
    ),
    (
        "rulebooks/payment-ceiling/2022-23.rulebook",
        include_str!("../../rulebooks/payment-ceiling/2022-23.rulebook"),
    ),
    (
        "rulebooks/payment-ceiling/2024-25.rulebook",
        include_str!("../../rulebooks/payment-ceiling/2024-25.rulebook"),
    ),
    (
        "rulebooks/personal-budget/2018-19.rulebook",
        include_str!("../../rulebooks/personal-budget/2018-19.rulebook"),
    ),
];

/// Every bundled version, checked together (so that amendments resolve).
pub fn programs() -> &'static [Executable] {
    static PROGRAMS: OnceLock<Vec<Executable>> = OnceLock::new();
    PROGRAMS.get_or_init(|| {
        let sources: Vec<rulebook::versions::Source> = BUNDLED
            .iter()
            .map(|(n, t)| rulebook::versions::Source {
                name: n.to_string(),
                text: t.to_string(),
            })
            .collect();
        let (versions, _) = rulebook::versions::load(&sources);
        versions
            .into_iter()
            .filter_map(|v| v.executable)
            .collect()
    })
}
