"""The shared training loop: convergence, seeding, early stopping, checkpoints and divergence."""

from __future__ import annotations

import math

import pytest
import torch

from sbinn.train import TrainingConfig, TrainingDivergedError, resolve_device, train


def regression_problem(seed: int = 0):
    generator = torch.Generator().manual_seed(seed)
    x = torch.randn(400, 3, generator=generator)
    y = x @ torch.tensor([[1.0], [-2.0], [0.5]]) + 0.1 * torch.randn(400, 1, generator=generator)
    return x, y


def make_model(seed: int = 0) -> torch.nn.Module:
    torch.manual_seed(seed)
    return torch.nn.Sequential(torch.nn.Linear(3, 16), torch.nn.Tanh(), torch.nn.Linear(16, 1))


def mse_objective(model, fail_at_call: int | None = None):
    calls = {"n": 0}

    def objective(batch, *, progress):
        calls["n"] += 1
        if fail_at_call is not None and calls["n"] == fail_at_call:
            raise KeyboardInterrupt
        inputs, targets = batch
        # Dropout-like noise makes the result depend on torch's global random stream.
        noisy = inputs + 0.01 * torch.randn_like(inputs)
        loss = ((model(noisy) - targets) ** 2).mean()
        return loss, {"mse": loss.item()}

    return objective


def config(**overrides) -> TrainingConfig:
    settings = {"num_epochs": 8, "batch_size": 64, "learning_rate": 1e-2, "progress": False}
    return TrainingConfig(**(settings | overrides))


def test_training_reduces_the_loss_and_records_history():
    model = make_model()
    history = train(model, mse_objective(model), regression_problem(), config(num_epochs=30))
    assert history.train_loss[-1] < 0.2 * history.train_loss[0]
    assert len(history.validation_loss) == 30
    assert history.steps == 30 * math.ceil(360 / 64)
    assert history.components[-1]["mse"] == pytest.approx(history.train_loss[-1])
    assert history.learning_rate[-1] < history.learning_rate[0]


def test_same_seed_gives_identical_weights():
    weights = []
    for _ in range(2):
        model = make_model()
        train(model, mse_objective(model), regression_problem(), config(seed=4))
        weights.append(torch.cat([p.flatten() for p in model.parameters()]))
    torch.testing.assert_close(weights[0], weights[1], rtol=0, atol=0)


@pytest.mark.parametrize("schedule", ["exponential", "cosine", "constant"])
def test_schedules_end_where_asked(schedule):
    model = make_model()
    cfg = config(schedule=schedule, final_learning_rate=1e-4, validation_fraction=0.0)
    history = train(model, mse_objective(model), regression_problem(), cfg)
    if schedule == "constant":
        assert history.learning_rate[-1] == pytest.approx(1e-2)
    else:
        assert history.learning_rate[-1] == pytest.approx(1e-4, rel=1e-3)


def test_early_stopping_restores_the_best_weights():
    model = make_model()
    x, y = regression_problem()
    # Pure-noise targets: validation cannot improve for long, so patience runs out.
    noise = torch.randn_like(y)
    cfg = config(num_epochs=200, early_stopping_patience=3, learning_rate=5e-2)
    history = train(model, mse_objective(model), (x, noise), cfg)
    assert history.stopped_early
    assert len(history.validation_loss) < 200
    best = min(history.validation_loss)
    assert history.validation_loss[history.best_epoch] == best
    # The model in memory is the best one, not the last one.
    objective = mse_objective(model)
    torch.manual_seed(cfg.seed + 1)
    assert best == pytest.approx(_validation_of(model, objective, x, noise, cfg), rel=1e-5)


def _validation_of(model, objective, x, y, cfg):
    import numpy as np

    order = np.random.default_rng(cfg.seed).permutation(len(x))
    val = order[: round(cfg.validation_fraction * len(x))]
    model.eval()
    total = 0.0
    with torch.no_grad():
        for lo in range(0, len(val), cfg.batch_size):
            rows = val[lo : lo + cfg.batch_size]
            total += objective((x[rows], y[rows]), progress=1.0)[0].item() * len(rows)
    return total / len(val)


def test_resume_after_interruption_matches_an_uninterrupted_run(tmp_path):
    data = regression_problem()
    reference = make_model()
    train(reference, mse_objective(reference), data, config())

    path = tmp_path / "run.ckpt"
    model = make_model()
    with pytest.raises(KeyboardInterrupt):
        train(
            model,
            mse_objective(model, fail_at_call=23),
            data,
            config(checkpoint_path=path, checkpoint_every=5),
        )
    assert path.exists()
    resumed = make_model(seed=99)  # different initial weights: all state must come from disk
    history = train(
        resumed, mse_objective(resumed), data, config(checkpoint_path=path, checkpoint_every=5)
    )
    assert history.steps == 8 * math.ceil(360 / 64)
    for a, b in zip(reference.parameters(), resumed.parameters(), strict=True):
        torch.testing.assert_close(a, b, rtol=0, atol=1e-7)


def test_nan_loss_stops_with_a_clear_error_and_keeps_the_last_good_state(tmp_path):
    model = make_model()
    path = tmp_path / "run.ckpt"
    calls = {"n": 0}

    def objective(batch, *, progress):
        calls["n"] += 1
        inputs, targets = batch
        loss = ((model(inputs) - targets) ** 2).mean()
        if calls["n"] == 12:
            loss = loss * float("nan")
        return loss, {"mse": loss.item()}

    snapshots = []

    def recording(batch, *, progress):
        snapshots.append([p.detach().clone() for p in model.parameters()])
        return objective(batch, progress=progress)

    with pytest.raises(
        TrainingDivergedError, match=r"step 11: the loss is nan.*last good checkpoint"
    ):
        train(
            model,
            recording,
            regression_problem(),
            config(checkpoint_path=path, checkpoint_every=4, validation_fraction=0.0),
        )
    for before, now in zip(snapshots[-1], model.parameters(), strict=True):
        torch.testing.assert_close(before, now, rtol=0, atol=0)
    payload = torch.load(path, weights_only=True)
    assert payload["history"]["steps"] == 8


def test_infinite_gradient_is_caught_before_the_update():
    model = make_model()

    def objective(batch, *, progress):
        inputs, targets = batch
        out = model(inputs)
        # sqrt at 0 has an infinite derivative while the loss itself stays finite.
        loss = ((out - targets) ** 2).mean() + torch.sqrt((out * 0).sum())
        return loss, {}

    before = [p.detach().clone() for p in model.parameters()]
    with pytest.raises(TrainingDivergedError, match="gradient norm"):
        train(model, objective, regression_problem(), config())
    for a, b in zip(before, model.parameters(), strict=True):
        torch.testing.assert_close(a, b, rtol=0, atol=0)


@pytest.mark.parametrize(
    ("content", "match"),
    [(b"not a checkpoint", "not a readable sbinn checkpoint"), (None, "different model")],
)
def test_corrupted_or_foreign_checkpoints_are_refused(tmp_path, content, match):
    path = tmp_path / "run.ckpt"
    if content is None:
        other = torch.nn.Linear(5, 5)
        train(
            other,
            lambda b, progress: ((other(b[0]) ** 2).mean(), {}),
            (torch.randn(50, 5),),
            config(checkpoint_path=path, num_epochs=1),
        )
    else:
        path.write_bytes(content)
    model = make_model()
    with pytest.raises(ValueError, match=match):
        train(model, mse_objective(model), regression_problem(), config(checkpoint_path=path))


def test_progress_false_prints_nothing(capsys):
    model = make_model()
    train(model, mse_objective(model), regression_problem(), config(num_epochs=1))
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == ""


@pytest.mark.parametrize(
    ("overrides", "match"),
    [
        ({"num_epochs": 0}, "num_epochs must be a positive integer"),
        ({"batch_size": -1}, "batch_size must be a positive integer"),
        ({"learning_rate": 0.0}, "learning_rate must be a finite number > 0"),
        ({"schedule": "linear"}, "schedule must be 'exponential', 'cosine' or 'constant'"),
        ({"gradient_clip": 0.0}, "gradient_clip must be > 0 or None"),
        ({"validation_fraction": 1.0}, r"validation_fraction must lie in \[0, 1\)"),
        ({"validation_fraction": 0.0, "early_stopping_patience": 3}, "early stopping needs"),
        ({"weight_decay": -1.0}, "weight_decay must be >= 0"),
    ],
)
def test_invalid_configuration_is_rejected(overrides, match):
    with pytest.raises(ValueError, match=match):
        config(**overrides)


def test_mismatched_data_is_rejected():
    model = make_model()
    with pytest.raises(ValueError, match="one shared first dimension"):
        train(model, mse_objective(model), (torch.zeros(10, 3), torch.zeros(9, 1)), config())


def test_devices():
    assert resolve_device("auto").type in ("cpu", "cuda")
    with pytest.raises(ValueError, match="device must be"):
        resolve_device("quantum")
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="CUDA is not available"):
            resolve_device("cuda")


def test_a_data_callable_gives_fresh_data_every_epoch():
    seen = []

    def fresh(epoch):
        seen.append(epoch)
        return regression_problem(seed=epoch)

    model = make_model()
    history = train(model, mse_objective(model), fresh, config(num_epochs=5))
    assert seen == [0, 1, 2, 3, 4]
    assert history.steps == 5 * math.ceil(360 / 64)
    assert history.train_loss[-1] < history.train_loss[0]


def test_a_longer_later_epoch_holds_the_schedule_at_its_end():
    def growing(epoch):
        x, y = regression_problem(seed=epoch)
        return (x, y) if epoch == 0 else (torch.cat([x, x]), torch.cat([y, y]))

    model = make_model()
    cfg = config(num_epochs=3, schedule="cosine", final_learning_rate=1e-4)
    history = train(model, mse_objective(model), growing, cfg)
    assert history.steps == math.ceil(360 / 64) + 2 * math.ceil(720 / 64)
    assert history.learning_rate[-1] == pytest.approx(1e-4, rel=1e-3)


def test_a_data_callable_returning_mismatched_tensors_is_rejected():
    def broken(epoch):
        return regression_problem() if epoch == 0 else (torch.zeros(5, 3), torch.zeros(4, 1))

    model = make_model()
    with pytest.raises(ValueError, match=r"one shared first dimension.*\(epoch 1\)"):
        train(model, mse_objective(model), broken, config(num_epochs=2))
