"""Training a CINN on a simulation store: loaded whole, or streamed a few chunks per epoch."""

from __future__ import annotations

import numpy as np
import pytest

from sbinn.methods.cinn import CINN
from sbinn.store import SimulationStore
from sbinn.train import TrainingConfig
from simulators.kinematics import KinematicsSimulator

QUICK = TrainingConfig(num_epochs=3, batch_size=128, progress=False)


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    sim = KinematicsSimulator()
    store = SimulationStore.create(tmp_path_factory.mktemp("s") / "k", sim, seed=0, chunk_size=200)
    store.fill(2000, backend="inprocess", progress=False)
    return store


def small():
    return CINN(num_blocks=2, hidden_features=16, seed=0)


def test_a_loaded_store_trains_like_its_arrays(store):
    from_store = small().fit(store=store, training=QUICK)
    theta, x = store.load()
    from_arrays = small().fit(theta, x, training=QUICK)
    assert from_store.history.train_loss == from_arrays.history.train_loss


def test_streamed_epochs_see_different_chunks_and_train(store):
    cinn = small().fit(store=store, simulations_per_epoch=600, training=QUICK)
    losses = cinn.history.train_loss
    assert len(losses) == 3 and np.all(np.isfinite(losses))
    _, x = store.load()
    assert cinn.sample(x[:2], 10).shape == (2, 10, 4)


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"num_simulations": 10}, ValueError, "store=... is the whole data source"),
        ({"online": True}, ValueError, "got ['online']"),
        ({"simulations_per_epoch": 0}, ValueError, "simulations_per_epoch must be a positive"),
    ],
)
def test_store_argument_errors(store, kwargs, error, message):
    with pytest.raises(error, match=message.replace("[", r"\[").replace("]", r"\]")):
        small().fit(store=store, training=QUICK, **kwargs)


def test_a_store_with_arrays_or_not_a_store_is_refused(store, tmp_path):
    theta, x = store.load()
    with pytest.raises(ValueError, match=r"got \['theta', 'x'\]"):
        small().fit(theta, x, store=store, training=QUICK)
    with pytest.raises(TypeError, match="store must be a SimulationStore, got str"):
        small().fit(store="sims.zarr", training=QUICK)
    empty = SimulationStore.create(tmp_path / "e", KinematicsSimulator(), seed=0, chunk_size=10)
    with pytest.raises(ValueError, match="holds no simulations yet"):
        small().fit(store=empty, training=QUICK)
