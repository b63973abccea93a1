"""Saved fits are complete InferenceData for ArviZ's own tools: pointwise log-likelihood and posterior predictive
groups, observations labelled by country and year."""

import json

import arviz as az
import matplotlib
import numpy as np
import pytest

import tipcausal as tc

pytestmark = pytest.mark.sampling


@pytest.fixture(scope="module")
def small_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("arviz_run")
    study = tc.build_study("default", causal={"outcomes": ["protection"]}, data={"n_countries": 30},
                           sampler={"draws": 250, "tune": 250, "chains": 2},
                           compare=[{"name": "probit", "likelihood": "cumulative_probit"}],
                           output={"dir": str(out / "run"), "allow_unconverged": True, "store": False})
    return tc.run(study, show_sampler_progress=False)


def test_saved_fits_work_with_arviz_loo_compare_ppc_and_loo_pit(small_run):
    matplotlib.use("Agg")
    doc = json.loads(small_run.summary_path.read_text())
    entry = doc["outcomes"]["protection"]
    logit = az.from_netcdf(small_run.out_dir / entry["fit"])
    probit = az.from_netcdf(small_run.out_dir / entry["specifications"][1]["fit"])
    for idata in (logit, probit):
        assert {"log_likelihood", "posterior_predictive", "observed_data"} <= set(idata.groups())
        ll, pp = idata.log_likelihood["score"], idata.posterior_predictive["score"]
        assert ll.dims == pp.dims == ("chain", "draw", "obs")
        assert ll.shape == (2, 250, entry["n_obs"]) and ll.dtype == np.float32 and pp.dtype == np.int8
        assert float(ll.max()) <= 0.0
        obs = idata.observed_data
        assert obs["obs_country"].dims == obs["obs_year"].dims == ("obs",)
        assert set(np.unique(pp.values)) <= set(range(5))
    rows = small_run.result.outcomes["protection"].fit.data.rows
    assert list(logit.observed_data["obs_country"].values) == list(rows["country"].astype(str))
    assert list(logit.log_likelihood["obs_year"].values) == list(rows["year"].astype(int))
    # az.loo on the file gives the run's own PSIS-LOO (float32 log-likelihoods: agreement to 1e-3)
    loo = az.loo(logit)
    assert float(loo.elpd_loo) == pytest.approx(entry["loo"]["elpd_loo"], abs=1e-3 * abs(entry["loo"]["elpd_loo"]))
    table = az.compare({"logit": logit, "probit": probit})
    assert set(table.index) == {"logit", "probit"}
    assert az.plot_ppc(logit, num_pp_samples=50, random_seed=1) is not None
    assert az.plot_loo_pit(logit, y="score") is not None
    # the replicated scores follow the fitted model: their overall shares match the run's predictive check
    shares = np.bincount(logit.posterior_predictive["score"].values.ravel(), minlength=5) / pp.size
    ppc = entry["specifications"][0]["ppc"]
    for k, share in enumerate(shares):
        assert ppc["replicated_low"][k] - 0.02 <= share <= ppc["replicated_high"][k] + 0.02


def test_report_renders_again_from_the_run_folder_without_sampling(small_run, tmp_path, monkeypatch):
    """``tipcausal report DIR`` (``api.rerender``) reads the run's own fit files: the same effects, a new report,
    no sampler call; a folder that is not a finished run is refused with nothing written."""
    import shutil

    from typer.testing import CliRunner

    import tipcausal.fit
    from tipcausal.cli import app
    from tipcausal.core.errors import InputError

    def no_sampling(*args, **kwargs):
        raise AssertionError("re-rendering must not sample")

    monkeypatch.setattr(tipcausal.fit, "sample", no_sampling)
    monkeypatch.setattr(tipcausal.fit, "code_fingerprint", lambda: "a later version")  # re-rendering after an upgrade
    copy = tmp_path / "copy"
    shutil.copytree(small_run.out_dir, copy)
    (copy / "report.html").unlink()
    again = tc.rerender(copy)
    assert again.report_path.is_file()
    old, new = json.loads(small_run.summary_path.read_text()), json.loads((copy / "summary.json").read_text())
    for o, e in old["outcomes"].items():
        assert new["outcomes"][o]["effects"] == e["effects"]
        assert new["outcomes"][o]["diagnostics"]["verdict"] == e["diagnostics"]["verdict"]
        assert [r["effects"] for r in new["outcomes"][o]["specifications"]] == [
            r["effects"] for r in e["specifications"]]  # the [[compare]] fit is read back too
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(InputError, match="no summary.json"):
        tc.rerender(empty)
    result = CliRunner().invoke(app, ["report", str(empty)])
    assert result.exit_code == 2 and "not a finished tipcausal run folder" in result.output
    assert list(empty.iterdir()) == []


def test_a_rerun_copies_the_earlier_runs_fit_file_only_when_it_holds_the_same_fit(small_run, tmp_path, monkeypatch):
    from tipcausal.study import store as store_module

    doc = json.loads(small_run.summary_path.read_text())
    earlier = small_run.out_dir / doc["outcomes"]["protection"]["fit"]
    prov = json.loads(earlier.with_suffix(".provenance.json").read_text())
    fit = small_run.result.outcomes["protection"].fit

    def not_again(*args, **kwargs):
        raise AssertionError("the pointwise groups were evaluated again")

    monkeypatch.setattr(store_module, "with_pointwise_groups", not_again)
    copied = store_module.save_fit(fit.idata, prov, tmp_path / "same.nc", rows=fit.data.rows, previous=earlier)
    a, b = az.from_netcdf(earlier), az.from_netcdf(copied)
    np.testing.assert_array_equal(a.log_likelihood["score"].values, b.log_likelihood["score"].values)
    assert b.posterior.attrs["tipcausal_fit_key"] == prov["fit_key"]
    # another fit (another key: other data, spec, settings or seed): the earlier file is not used
    with pytest.raises(AssertionError, match="evaluated again"):
        store_module.save_fit(fit.idata, {**prov, "fit_key": "0" * 16}, tmp_path / "other.nc",
                              rows=fit.data.rows, previous=earlier)
    assert not (tmp_path / "other.nc").exists()
