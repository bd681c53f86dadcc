import pytest

from gateway.domain.roles import ROLE_PERMISSIONS, Permission, Role, is_allowed, roles_with

P = Permission
EXPECTED = {
    P.READ_RECOMMENDATIONS: {Role.ADMIN, Role.ADVISOR, Role.CRM, Role.BRANCH_MANAGER, Role.DPO},
    P.WRITE_OUTCOMES: {Role.ADMIN, Role.ADVISOR, Role.CRM, Role.BRANCH_MANAGER},
    P.READ_FEATURES: {Role.ADMIN, Role.ADVISOR, Role.BRANCH_MANAGER, Role.DPO},
    P.READ_KPIS: {Role.ADMIN, Role.MARKETING, Role.BRANCH_MANAGER, Role.ANALYST},
    P.WRITE_INGEST: {Role.ADMIN, Role.INGEST},
    P.DATA_SUBJECT_REQUESTS: {Role.ADMIN, Role.DPO},
    P.MANAGE_CAMPAIGNS: {Role.ADMIN, Role.MARKETING},
    P.READ_AUDIT: {Role.ADMIN, Role.DPO},
    P.MANAGE_ACCESS: {Role.ADMIN},
}


@pytest.mark.parametrize("permission", list(Permission))
@pytest.mark.parametrize("role", list(Role))
def test_role_table_matches_the_published_matrix(role: Role, permission: Permission) -> None:
    assert is_allowed(role, permission) is (role in EXPECTED[permission])


def test_every_role_has_an_entry_and_admin_has_everything() -> None:
    assert set(ROLE_PERMISSIONS) == set(Role)
    assert ROLE_PERMISSIONS[Role.ADMIN] == frozenset(Permission)


def test_marketing_and_ingest_never_read_one_customers_data() -> None:
    for role in (Role.MARKETING, Role.INGEST):
        assert not is_allowed(role, P.READ_RECOMMENDATIONS)
        assert not is_allowed(role, P.READ_FEATURES)


def test_roles_with_lists_holders_in_declaration_order() -> None:
    assert roles_with(P.READ_FEATURES) == [Role.ADMIN, Role.ADVISOR, Role.BRANCH_MANAGER, Role.DPO]
