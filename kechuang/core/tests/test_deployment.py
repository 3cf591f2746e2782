"""The production way of running: static files collected with the manifest, settings without a key.

The suite turns the static manifest off (STATIC_MANIFEST=0), so these tests run the production
storage's post-processing themselves; a vendored asset that points at a file we do not ship
(a source map, a font) stops `collectstatic` and every page of a DEBUG=0 deployment is a 500.
"""

import json
import os
import subprocess
import sys

import pytest
from django.conf import settings
from django.core.management import call_command
from django.test import override_settings

PRODUCTION_STATIC_STORAGE = "whitenoise.storage.CompressedManifestStaticFilesStorage"


def test_collectstatic_with_the_production_storage_writes_a_manifest(tmp_path):
    """Post-processing resolves every url()/sourceMappingURL of the shipped assets."""
    storages = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": PRODUCTION_STATIC_STORAGE},
    }
    with override_settings(STATIC_ROOT=tmp_path, STORAGES=storages):
        call_command("collectstatic", interactive=False, verbosity=0)
    manifest = json.loads((tmp_path / "staticfiles.json").read_text())
    hashed = manifest["paths"]["vendor/bootstrap/bootstrap.min.css"]
    assert hashed != "vendor/bootstrap/bootstrap.min.css"
    assert (tmp_path / hashed).is_file()


def test_a_vendored_asset_pointing_at_a_missing_file_fails_collectstatic(tmp_path):
    """The check above can fail: an asset referencing an absent source map is refused."""
    from django.contrib.staticfiles.storage import ManifestStaticFilesStorage

    source = tmp_path / "src"
    (source / "vendor").mkdir(parents=True)
    (source / "vendor" / "lib.min.js").write_text("x();\n//# sourceMappingURL=lib.min.js.map\n")
    storage = ManifestStaticFilesStorage(location=source)
    paths = {"vendor/lib.min.js": (storage, "vendor/lib.min.js")}
    results = list(storage.post_process(paths))
    assert any(isinstance(processed, Exception) for _name, _hashed, processed in results)


def _run_clean(*args: str, **extra_env: str) -> subprocess.CompletedProcess:
    """Run `python -m kechuang ...` from the checkout with an environment holding nothing else."""
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin")}
    env.update(extra_env)
    return subprocess.run(
        [sys.executable, *args],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture
def plan_file(tmp_path):
    path = tmp_path / "plan.txt"
    path.write_text("一、主要目标\n到2027年，高新技术企业数量达到500家。\n", encoding="utf-8")
    return path


def test_plan_extraction_runs_from_a_checkout_without_any_variable(plan_file):
    result = _run_clean(
        "-m", "kechuang", "plans", "extract", str(plan_file), "--format", "json"
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert any(target["value"] == 500 for target in json.loads(result.stdout))


def test_check_runs_without_secret_key_and_deploy_check_flags_it():
    assert _run_clean("-m", "kechuang", "check").returncode == 0
    deploy = _run_clean("-m", "kechuang", "check", "--deploy")
    assert "security.W009" in deploy.stdout + deploy.stderr


@pytest.mark.parametrize(
    "args",
    [
        ("-m", "kechuang", "runserver", "--noreload", "127.0.0.1:0"),
        ("-m", "kechuang", "db_worker", "--batch"),
        ("-m", "kechuang", "worker", "--batch"),
        ("-c", "import kechuang.wsgi"),
    ],
    ids=["runserver", "db_worker", "worker", "wsgi"],
)
def test_serving_without_secret_key_refuses_to_start(args, tmp_path):
    result = _run_clean(*args, KECHUANG_VAR_DIR=str(tmp_path / "var"))
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


def test_wsgi_starts_with_a_secret_key(tmp_path):
    result = _run_clean(
        "-c", "import kechuang.wsgi",
        SECRET_KEY="a-real-deployment-key-0123456789-abcdefghijklmnopqrstuvwxyz",
        KECHUANG_VAR_DIR=str(tmp_path / "var"),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
