"""High-risk external effects become findings; routine ones do not."""

from __future__ import annotations

from tests.analysis.detectors.session import Session, found


def _by_kind(a: object) -> dict[str, object]:
    return {f.data["kind"]: f for f in found(a, "external")}  # type: ignore[arg-type]


def test_critical_and_high_effects() -> None:
    s = Session()
    s.bash("kubectl apply -f deploy/prod.yaml", output="deployment configured")
    s.bash("npm publish", output="+ pkg@1.0.1")
    s.bash("git push --force origin main", output="")
    s.bash("psql -h db.prod -c 'DROP TABLE users'", output="DROP TABLE")
    s.bash("psql -h db.prod -c \"UPDATE users SET plan='pro' WHERE id=1\"", output="UPDATE 1")
    s.bash("git reset --hard HEAD~3", output="")
    found_kinds = {
        (f.data["kind"], f.data["target"]): f.severity for f in found(s.run(), "external")
    }
    assert found_kinds[("deploy", "kubectl apply")] == "critical"
    assert found_kinds[("publish", "npm publish")] == "critical"
    assert found_kinds[("git_push", "origin main")] == "critical"
    assert found_kinds[("database", "db.prod")] == "critical"  # the DROP is the worst of the two
    assert any(k == "destructive" and v == "high" for (k, _), v in found_kinds.items())


def test_a_secret_typed_into_a_command_is_critical() -> None:
    s = Session()
    token = "ghp_" + "A1b2C3d4" * 5
    s.bash(f"curl -H 'Authorization: token {token}' https://api.github.com/user", output="{}")
    (f,) = [f for f in found(s.run(), "external") if f.data["kind"] == "secret_exposure"]
    assert f.severity == "critical" and token not in f.message


def test_a_failed_attempt_is_one_level_lower() -> None:
    s = Session()
    s.bash("npm publish", ok=False, output="npm ERR! 403 Forbidden")
    (f,) = found(s.run(), "external")
    assert f.severity == "high" and f.data["succeeded"] is False and "attempt failed" in f.message


def test_a_plain_push_of_a_feature_branch_is_routine() -> None:
    s = Session()
    s.bash("git push origin feature/x", output="")
    s.bash("curl https://pypi.org/simple/requests/", output="")
    s.bash("rm -rf node_modules dist", output="")
    a = s.run()
    kinds = [(f.data["kind"], f.severity) for f in found(a, "external")]
    assert kinds == [("destructive", "warning")]  # regenerable build output only


def test_a_push_to_a_protected_branch_is_high() -> None:
    s = Session()
    s.bash("git push origin main", output="")
    (f,) = found(s.run(), "external")
    assert f.severity == "high" and "protected branch" in f.message


def test_exposed_secrets_are_grouped_by_kind() -> None:
    s = Session()
    seqs = []
    for letter in "AB":
        token = "ghp_" + letter * 36
        seqs.append(s.bash(f"git clone https://x:{token}@github.com/o/r.git", output=""))
    (f,) = [f for f in found(s.run(), "external") if f.data["kind"] == "secret_exposure"]
    assert f.severity == "critical" and f.data["count"] == 2 and list(f.seqs) == seqs
    assert "2 secrets" in f.message and "ghp_" not in f.message
