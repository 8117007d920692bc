import json
import re

import numpy as np
import pytest
import zarr

from sbinn.methods.cinn import CINN
from sbinn.priors import JointPrior, Normal, Uniform
from sbinn.simulation_stream import run_simulations
from sbinn.simulator import SimulationError
from sbinn.store import (
    SimulationStore,
    StoreFormatError,
    StoreIncompleteError,
    StoreMismatchError,
)
from sbinn.train import TrainingConfig
from tests.simulator_support import failure_warnings, no_warning
from tests.store_support import NoisySum, failing_below_0_1, raw_columns, simulator


def filled(path, num, sim=None, chunk_size=100, seed=0, **kwargs):
    store = SimulationStore.create(path, sim or simulator(), seed=seed, chunk_size=chunk_size)
    store.fill(num, backend="inprocess", progress=False, **kwargs)
    return store


def assert_same(first, second):
    assert len(first) == len(second)
    for a, b in zip(first, second, strict=True):
        np.testing.assert_array_equal(a, b)


def test_a_filled_store_holds_the_simulations_of_a_run_with_its_seed_and_chunk_size(tmp_path):
    store = filled(tmp_path / "s", 250, seed=3)
    assert (len(store), store.num_chunks, store.num_completed) == (250, 3, 250)
    assert store.is_complete and store.missing_chunks == [] and store.num_failed == 0
    expected = run_simulations(simulator(), 250, chunk_size=100, seed=3, backend="inprocess")
    assert_same(no_warning(store.load), expected)
    assert_same(SimulationStore.open(tmp_path / "s").load(), expected)


def test_the_store_is_plain_zarr_chunked_like_the_simulations(tmp_path):
    filled(tmp_path / "s", 250)
    group = zarr.open_group(tmp_path / "s", mode="r")
    assert group["theta"].shape == (250, 2) and group["theta"].chunks == (100, 2)
    assert group["x"].shape == (250, 2) and group["num_failed"][:].tolist() == [0, 0, 0]
    assert sorted(p.name for p in (tmp_path / "s" / "x" / "c").iterdir()) == ["0", "1", "2"]


def test_the_record_names_the_simulator_its_prior_and_the_seed(tmp_path):
    sim = simulator(name="shift", version="2.1")
    record = filled(tmp_path / "s", 10, sim, seed=7).metadata
    assert record["simulator"] == json.loads(json.dumps(sim.settings()))
    assert record["simulator"]["prior"] == sim.prior.to_config()
    assert (record["simulator"]["name"], record["simulator"]["version"]) == ("shift", "2.1")
    assert (record["seed"], record["chunk_size"], record["num_simulations"]) == (7, 100, 10)
    assert {"format_version", "sbinn_version", "created_utc"} <= record.keys()


def test_a_seed_of_none_is_drawn_and_recorded(tmp_path):
    store = SimulationStore.create(tmp_path / "s", simulator(), seed=None, chunk_size=5)
    assert SimulationStore.open(tmp_path / "s").seed == store.seed >= 0


def test_growing_in_whole_chunks_equals_writing_in_one_go(tmp_path):
    grown = filled(tmp_path / "grown", 200)
    grown.fill(300, backend="inprocess", progress=False)
    reopened = SimulationStore.open(tmp_path / "grown", simulator())
    reopened.fill(500, progress=False)
    assert_same(raw_columns(reopened), raw_columns(filled(tmp_path / "once", 500)))
    assert len(SimulationStore.open(tmp_path / "grown")) == 500


def test_growing_past_a_partial_chunk_simulates_it_again_at_full_size(tmp_path):
    grown = filled(tmp_path / "grown", 250)
    old_last_rows = grown.read_chunk(2).theta
    grown.fill(420, backend="inprocess", progress=False)
    once = filled(tmp_path / "once", 420)
    assert [c.size for c in grown.chunks] == [100, 100, 100, 100, 20]
    assert_same(raw_columns(grown), raw_columns(once))
    assert not np.array_equal(grown.read_chunk(2).theta[:50], old_last_rows)


def test_an_interrupted_growth_is_finished_by_the_next_fill(tmp_path):
    store = filled(tmp_path / "s", 250)
    store._grow(400)  # the record says 400; the arrays were never resized
    reopened = SimulationStore.open(tmp_path / "s", simulator())
    assert (len(reopened), reopened.num_completed) == (400, 200)
    with pytest.raises(StoreIncompleteError, match="2 of 4 chunk"):
        reopened.load()
    reopened.fill(backend="inprocess", progress=False)
    assert_same(raw_columns(reopened), raw_columns(filled(tmp_path / "once", 400)))


def test_missing_chunks_are_simulated_again_bitwise(tmp_path):
    store = filled(tmp_path / "s", 500)
    expected = raw_columns(store)
    status = zarr.open_array(tmp_path / "s" / "num_failed", mode="r+")
    status[1] = status[3] = -1  # as if the writer died before committing chunks 1 and 3
    store = SimulationStore.open(tmp_path / "s", simulator())
    assert [c.index for c in store.missing_chunks] == [1, 3] and store.num_completed == 300
    store.fill(backend="inprocess", progress=False)
    assert store.is_complete
    assert_same(raw_columns(store), expected)


def test_an_uncommitted_chunk_is_overwritten_without_being_read(tmp_path):
    store = filled(tmp_path / "s", 250)
    expected = raw_columns(store)
    zarr.open_array(tmp_path / "s" / "num_failed", mode="r+")[1:] = -1
    for index in (1, 2):
        (tmp_path / "s" / "x" / "c" / str(index) / "0").write_bytes(b"torn")
    store = SimulationStore.open(tmp_path / "s", simulator())
    store.fill(backend="inprocess", progress=False)
    assert_same(raw_columns(store), expected)


def test_failed_simulations_are_kept_in_place_counted_and_dropped_on_reading(tmp_path):
    sim = simulator(failing_below_0_1)
    store = filled(tmp_path / "s", 300, sim)
    theta_all, x_all = raw_columns(store)
    failed = np.isnan(x_all).all(axis=1)
    assert theta_all.shape == (300, 2) and failed.sum() == store.num_failed > 0
    assert (theta_all[failed, 0] < 0.1).all()
    assert zarr.open_array(tmp_path / "s" / "num_failed")[:].sum() == store.num_failed
    (theta, x), caught = failure_warnings(store.load)
    assert len(caught) == 1 and f"{store.num_failed} of 300" in str(caught[0].message)
    assert_same((theta, x), (theta_all[~failed], x_all[~failed]))
    expected, _ = failure_warnings(lambda: run_simulations(sim, 300, chunk_size=100, seed=0))
    assert_same((theta, x), expected)
    (theta, x), caught = failure_warnings(SimulationStore.open(tmp_path / "s").load)
    assert len(caught) == 1 and len(theta) == 300 - store.num_failed


def test_reading_raises_when_too_many_simulations_failed(tmp_path):
    sim = simulator(failing_below_0_1, max_failure_fraction=0.01)
    store = filled(tmp_path / "s", 200, sim)
    with pytest.raises(SimulationError, match=r"max_failure_fraction=0\.01"):
        store.load()


def test_noise_draws_are_stored_with_their_simulations(tmp_path):
    store = SimulationStore.create(
        tmp_path / "s", NoisySum(), seed=2, chunk_size=40, with_noise=True
    )
    store.fill(100, backend="inprocess", progress=False)
    expected = run_simulations(NoisySum(), 100, chunk_size=40, seed=2, with_noise=True)
    assert_same(store.load(), expected)
    assert_same(SimulationStore.open(tmp_path / "s").load(), expected)


def test_a_loaded_store_trains_a_cinn(tmp_path):
    theta, x = filled(tmp_path / "s", 200).load()
    cinn = CINN(seed=0).fit(theta, x, training=TrainingConfig(num_epochs=1, progress=False))
    assert cinn.sample(x[:2], num_samples=3, seed=0).shape == (2, 3, 2)


def test_an_empty_store_loads_empty_arrays(tmp_path):
    store = SimulationStore.create(tmp_path / "s", simulator(), seed=0, chunk_size=10)
    assert store.is_complete and len(store) == 0 and store.chunks == []
    assert [a.shape for a in SimulationStore.open(tmp_path / "s").load()] == [(0, 2), (0, 2)]


# Refusals


def test_another_simulator_configuration_is_refused_naming_every_difference(tmp_path):
    filled(tmp_path / "s", 100, simulator(name="shift", version="1"))
    other_prior = JointPrior({"a": Uniform(0.0, 2.0), "b": Normal(0.0, 1.0)})
    other = simulator(prior=other_prior, name="shift", version="2")
    with pytest.raises(StoreMismatchError) as raised:
        SimulationStore.open(tmp_path / "s", other)
    message = str(raised.value)
    assert "simulator.version: store '1', given '2'" in message
    assert re.search(r"simulator\.prior\.a\.high: store \[1\.0\], given \[2\.0\]", message)
    assert "seed" not in message and isinstance(raised.value, ValueError)
    with pytest.raises(StoreMismatchError, match=r"simulator\.name: store 'shift', given 'other'"):
        SimulationStore.open(tmp_path / "s", simulator(name="other", version="1"))


def test_create_with_exist_ok_reopens_a_matching_store_and_refuses_another(tmp_path):
    store = filled(tmp_path / "s", 100, seed=4)
    again = SimulationStore.create(
        tmp_path / "s", simulator(), seed=4, chunk_size=100, exist_ok=True
    )
    assert again.is_complete and len(again) == len(store)
    with pytest.raises(StoreMismatchError, match=r"seed: store 4, given 5.*chunk_size: store 100"):
        SimulationStore.create(tmp_path / "s", simulator(), seed=5, chunk_size=50, exist_ok=True)
    with pytest.raises(StoreMismatchError, match=r"name: store 'noisy'.*with_noise: store False"):
        SimulationStore.create(
            tmp_path / "s", NoisySum(), seed=4, chunk_size=100, with_noise=True, exist_ok=True
        )
    with pytest.raises(FileExistsError, match="exists and is not empty"):
        SimulationStore.create(tmp_path / "s", simulator(), seed=4, chunk_size=100)


def snapshot(path):
    return {p: p.read_bytes() for p in sorted(path.rglob("*")) if p.is_file()}


@pytest.mark.parametrize("kind", ["random files", "foreign zarr", "zarr array", "bad json"])
def test_a_directory_that_is_not_a_store_is_refused_and_left_alone(tmp_path, kind):
    path = tmp_path / "d"
    path.mkdir()
    if kind == "random files":
        (path / "notes.txt").write_text("mine")
    elif kind == "foreign zarr":
        zarr.create_array(str(path), name="data", shape=(3,), dtype="int8", fill_value=0)
    elif kind == "zarr array":
        zarr.create_array(str(path), shape=(3,), dtype="int8", fill_value=0)
    else:
        (path / "zarr.json").write_text("{not json")
    before = snapshot(path)
    with pytest.raises(StoreFormatError, match=r"not an sbinn simulation store|not a readable"):
        SimulationStore.open(path, simulator())
    with pytest.raises(StoreFormatError):
        SimulationStore.create(path, simulator(), seed=0, chunk_size=10, exist_ok=True)
    with pytest.raises(FileExistsError):
        SimulationStore.create(path, simulator(), seed=0, chunk_size=10)
    assert snapshot(path) == before


def rewrite_record(path, change):
    group = zarr.open_group(path, mode="r+")
    record = group.attrs["sbinn_simulation_store"]
    change(record)
    group.attrs["sbinn_simulation_store"] = record


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda r: r.pop("seed"), r"bad field\(s\): \{'seed': '<missing>'\}"),
        (lambda r: r.update(chunk_size=-3), r"'chunk_size': -3"),
        (lambda r: r.update(simulator="kinematics"), r"'simulator': 'kinematics'"),
        (lambda r: r.update(format_version=99), "format 99 .* reads format 1 only"),
        (lambda r: r.update(noise_dimension=2), "with_noise=False but noise_dimension=2"),
        (lambda r: r.update(num_simulations=50), "array 'theta' is shape \\(100, 2\\)"),
        (lambda r: r["simulator"].update(observation_shape=[3]), "array 'x' is shape"),
    ],
    ids=["no seed", "chunk size", "simulator", "format", "noise", "rows", "observation shape"],
)
def test_a_damaged_record_is_refused_and_left_alone(tmp_path, change, message):
    filled(tmp_path / "s", 100, chunk_size=50)
    rewrite_record(tmp_path / "s", change)
    before = snapshot(tmp_path / "s")
    with pytest.raises(StoreFormatError, match=message):
        SimulationStore.open(tmp_path / "s")
    assert snapshot(tmp_path / "s") == before


def test_a_missing_array_is_refused(tmp_path):
    filled(tmp_path / "s", 100)
    for path in sorted((tmp_path / "s" / "num_failed").rglob("*"), reverse=True):
        path.rmdir() if path.is_dir() else path.unlink()
    (tmp_path / "s" / "num_failed").rmdir()
    with pytest.raises(StoreFormatError, match="array 'num_failed' is missing"):
        SimulationStore.open(tmp_path / "s")


def test_bad_arguments_are_refused(tmp_path):
    with pytest.raises(FileNotFoundError, match="no simulation store"):
        SimulationStore.open(tmp_path / "nothing")
    with pytest.raises(TypeError, match="sbinn Simulator"):
        SimulationStore.create(tmp_path / "s", lambda t: t, seed=0)
    with pytest.raises(TypeError, match="sbinn Simulator"):
        SimulationStore.open(tmp_path / "s", "kinematics")
    with pytest.raises(ValueError, match="chunk_size must be a positive integer"):
        SimulationStore.create(tmp_path / "s", simulator(), seed=0, chunk_size=0)
    with pytest.raises(ValueError, match="seed must be a non-negative int"):
        SimulationStore.create(tmp_path / "s", simulator(), seed=-1)
    with pytest.raises(ValueError, match="noise_dimension 0"):
        SimulationStore.create(tmp_path / "s", simulator(), seed=0, with_noise=True)
    assert not (tmp_path / "s").exists()
    store = filled(tmp_path / "s", 100, chunk_size=50)
    with pytest.raises(ValueError, match="does not shrink"):
        store.fill(99)
    with pytest.raises(ValueError, match="num_simulations must be a positive integer"):
        store.fill(0)
    with pytest.raises(ValueError, match="needs its simulator"):
        SimulationStore.open(tmp_path / "s").fill(200)
    with pytest.raises(IndexError, match="chunk 2 out of range for 2"):
        store.read_chunk(2)
    with pytest.raises(TypeError, match="index must be an int"):
        store.read_chunk(1.0)


def test_a_store_fills_on_local_processes_bitwise_as_in_process(tmp_path):
    store = SimulationStore.create(tmp_path / "p", simulator(), seed=1, chunk_size=100)
    store.fill(600, backend="processes", max_workers=2, progress=False)
    assert_same(raw_columns(store), raw_columns(filled(tmp_path / "i", 600, seed=1)))


def test_writing_counts_failures_without_warning(tmp_path):
    store, caught = failure_warnings(
        lambda: filled(tmp_path / "s", 100, simulator(failing_below_0_1))
    )
    assert caught == [] and store.num_failed > 0
