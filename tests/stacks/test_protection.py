"""The pure protection decision behind `protect`, deletion protection and recovery windows."""

import pytest

from stacks.protection import Protection, is_production, protection_for


@pytest.mark.parametrize(
    ("stack", "expected"),
    [
        ("prod", True),
        ("production", True),
        ("prod-eu", True),
        ("dev", False),
        ("staging", False),
        ("product", False),
    ],
)
def test_production_stacks_are_recognised_by_name(stack, expected):
    assert is_production(stack) is expected


def test_dev_is_unprotected_and_cheap_to_tear_down():
    assert protection_for(
        "dev",
        enable_resource_protection=False,
        enable_cluster_deletion_protection=False,
        secret_recovery_window_days=0,
    ) == Protection(
        protect=False,
        cluster_deletion_protection=False,
        secret_recovery_window_days=0,
        kms_deletion_window_days=7,
    )


def test_prod_is_protected_even_if_the_flags_forget():
    assert protection_for(
        "prod",
        enable_resource_protection=False,
        enable_cluster_deletion_protection=False,
        secret_recovery_window_days=7,
    ) == Protection(
        protect=True,
        cluster_deletion_protection=True,
        secret_recovery_window_days=30,
        kms_deletion_window_days=30,
    )


def test_staging_can_opt_in_to_protection():
    plan = protection_for(
        "staging",
        enable_resource_protection=True,
        enable_cluster_deletion_protection=False,
        secret_recovery_window_days=14,
    )
    assert plan.protect is True
    assert plan.cluster_deletion_protection is False
    assert plan.secret_recovery_window_days == 30
