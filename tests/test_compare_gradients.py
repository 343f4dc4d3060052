"""compare_gradients: each verdict fires on its distortion and never on the true gradient."""

import numpy as np
import pytest

import tinygrad_edu as tg

rng = np.random.default_rng(3)
X = rng.standard_normal((16, 4))
Y = rng.standard_normal((16, 3))


def mse_loss(W, b):
    """A learner's numpy forward pass, run unchanged on Tensors."""
    out = np.dot(X, W) + b
    return np.mean((out - Y) ** 2)


def true_grads(W, b):
    """Derived by hand (correctly), in numpy."""
    out = X @ W + b
    delta = 2 * (out - Y) / out.size
    return {"W": X.T @ delta, "b": delta.sum(axis=0)}


PARAMS = {"W": rng.standard_normal((4, 3)), "b": rng.standard_normal(3)}
TRUE = true_grads(**PARAMS)


def report_with(W=None, b=None, params=PARAMS, loss=mse_loss):
    hand = {"W": TRUE["W"] if W is None else W, "b": TRUE["b"] if b is None else b}
    return tg.compare_gradients(loss, params, hand)


def test_true_gradients_pass():
    report = report_with()
    assert report.ok
    assert report["W"].verdict == "ok" and report["b"].verdict == "ok"
    assert report["W"].max_abs_error < 1e-12


def test_true_gradients_computed_in_float32_pass():
    params32 = {k: v.astype(np.float32) for k, v in PARAMS.items()}
    X32, Y32 = X.astype(np.float32), Y.astype(np.float32)
    out = X32 @ params32["W"] + params32["b"]
    delta = 2 * (out - Y32) / np.float32(out.size)
    hand = {"W": X32.T @ delta, "b": delta.sum(axis=0)}
    assert hand["W"].dtype == np.float32
    assert tg.compare_gradients(mse_loss, params32, hand).ok


def test_near_zero_true_gradient_with_noise_passes():
    def loss(W, b):
        return np.sum(np.dot(X, W)) * 1.0 + np.sum(b * 0.0)
    hand = {"W": np.tile(X.sum(axis=0)[:, None], (1, 3)), "b": np.full(3, 1e-12)}
    assert tg.compare_gradients(loss, PARAMS, hand).ok


def test_negative_is_named():
    report = report_with(W=-TRUE["W"])
    assert not report.ok
    assert report["W"].verdict == "negative"
    assert report["b"].verdict == "ok"


@pytest.mark.parametrize("k", [2.0, 0.5, 16.0, 48.0, 0.01])
def test_scaled_gradient_reports_the_factor(k):
    report = report_with(W=k * TRUE["W"])
    assert report["W"].verdict == "scaled"
    assert report["W"].factor == pytest.approx(k, rel=1e-6)


def test_scaled_by_batch_size_suggests_missing_one_over_n():
    report = report_with(b=16 * TRUE["b"])
    assert "1/N" in report["b"].detail and "16" in report["b"].detail


def test_transposed_wrong_shape_is_named():
    report = report_with(W=TRUE["W"].T.copy())
    assert report["W"].verdict == "transposed"
    assert not report["W"].shape_ok


def test_transposed_square_matrix_is_named():
    params = {"W": rng.standard_normal((4, 4)), "b": np.zeros(4)}
    Y4 = rng.standard_normal((16, 4))

    def loss(W, b):
        return np.mean((np.dot(X, W) + b - Y4) ** 2)

    out = X @ params["W"] + params["b"]
    delta = 2 * (out - Y4) / out.size
    hand = {"W": (X.T @ delta).T, "b": delta.sum(axis=0)}
    assert tg.compare_gradients(loss, params, hand)["W"].verdict == "transposed"


def test_wrong_only_in_some_rows():
    W = TRUE["W"].copy()
    W[2] += 1.0
    report = report_with(W=W)
    assert report["W"].verdict == "rows"
    assert report["W"].where == [2]


def test_wrong_only_in_one_column():
    W = TRUE["W"].copy()
    W[:, 1] *= 3.0
    report = report_with(W=W)
    assert report["W"].verdict == "columns"
    assert report["W"].where == [1]


def test_wrong_only_at_some_indices_of_a_vector():
    b = TRUE["b"].copy()
    b[0] = 5.0
    assert report_with(b=b)["b"].verdict == "indices"


def test_per_sample_gradient_not_summed():
    out = X @ PARAMS["W"] + PARAMS["b"]
    delta = 2 * (out - Y) / out.size
    report = report_with(b=delta)
    assert report["b"].verdict == "not_summed"


def test_outer_product_instead_of_dot_is_wrong_shape():
    report = report_with(W=np.outer(X[0], TRUE["b"]).reshape(4, 3, 1))
    assert report["W"].verdict == "wrong_shape"


def test_nan_in_hand_gradient():
    W = TRUE["W"].copy()
    W[0, 0] = np.nan
    assert report_with(W=W)["W"].verdict == "nonfinite"


def test_all_zero_hand_gradient():
    assert report_with(W=np.zeros_like(TRUE["W"]))["W"].verdict == "zero"


def test_arbitrary_error_is_a_mismatch():
    noisy = TRUE["W"] + rng.standard_normal(TRUE["W"].shape)
    assert report_with(W=noisy)["W"].verdict == "mismatch"


def test_missing_hand_gradient():
    report = tg.compare_gradients(mse_loss, PARAMS, {"W": TRUE["W"]})
    assert report["b"].verdict == "missing" and not report.ok


def test_report_prints_aligned_table_naming_the_mistake():
    text = str(report_with(W=-TRUE["W"]))
    lines = text.splitlines()
    assert lines[1].startswith("parameter")
    assert any(line.startswith("W ") and "negative" in line for line in lines)
    assert any(line.startswith("b ") and line.rstrip().endswith("ok") for line in lines)
    assert "sign" in text   # the hint explains the likely cause


def test_loss_fn_that_drops_the_graph_is_explained():
    with pytest.raises(TypeError, match="graph was lost"):
        tg.compare_gradients(lambda W, b: float(np.sum(W.numpy())), PARAMS, TRUE)


def test_unknown_hand_gradient_name_is_an_error():
    with pytest.raises(ValueError, match="W2"):
        tg.compare_gradients(mse_loss, PARAMS, dict(TRUE, W2=TRUE["W"]))


def test_sign_and_dropped_two_are_both_named():
    report = report_with(W=-0.5 * TRUE["W"])
    comparison = report["W"]
    assert comparison.verdict == "scaled" and comparison.factor == pytest.approx(-0.5)
    assert "sign mix-up AND a dropped factor 2" in comparison.detail
    text = str(report)
    assert "(out - y), not (y - out)" in text and "keeps its 2" in text


def test_factor_two_times_batch_size_names_both_parts():
    comparison = report_with(W=32 * TRUE["W"])["W"]
    assert "an extra factor 2 AND a missing 1/N with N = 16" in comparison.detail


def test_unexplained_factor_points_to_check_backprop():
    comparison = report_with(W=0.9395 * TRUE["W"])["W"]
    assert comparison.detail == "scaled by 0.9395"
    assert any("check_backprop" in hint for hint in comparison.hints)


def test_bias_with_wrong_shape_and_wrong_values_says_both():
    comparison = report_with(b=(2 * TRUE["b"]).reshape(1, 3))["b"]
    assert comparison.verdict == "wrong_shape"
    assert "(1, 3) instead of (3,)" in comparison.detail
    assert "still wrong: scaled by 2" in comparison.detail


def test_bias_with_wrong_shape_and_right_values_says_reshape():
    comparison = report_with(b=TRUE["b"].reshape(3, 1))["b"]
    assert comparison.verdict == "wrong_shape" and "right values" in comparison.detail


def test_per_sample_bias_summed_still_negative_names_both():
    out = X @ PARAMS["W"] + PARAMS["b"]
    delta = 2 * (out - Y) / out.size
    comparison = report_with(b=-delta)["b"]
    assert comparison.verdict == "not_summed"
    assert "summed, it is still wrong: the negative" in comparison.detail
    assert len(comparison.hints) == 2


def test_transposed_and_scaled_says_both():
    comparison = report_with(W=(2 * TRUE["W"]).T.copy())["W"]
    assert comparison.verdict == "transposed"
    assert "transposed back, it is still wrong: scaled by 2" in comparison.detail


def test_zero_initialised_network_is_noted_when_gradients_match():
    Xr = rng.standard_normal((8, 3))
    params = {"W1": np.zeros((3, 4)), "b1": np.zeros(4), "W2": np.zeros((4, 1)),
              "b2": np.zeros(1)}

    def loss(W1, b1, W2, b2):
        h = np.maximum(np.dot(Xr, W1) + b1, 0)
        return np.mean((np.dot(h, W2) + b2 - 1.0) ** 2)

    hand = {"W1": np.zeros((3, 4)), "b1": np.zeros(4), "W2": np.zeros((4, 1)),
            "b2": np.array([-2.0])}
    report = tg.compare_gradients(loss, params, hand)
    assert report.ok
    assert len(report.notes) == 1 and "exactly zero" in report.notes[0]
    assert "nothing will learn" in str(report)


def test_no_zero_weight_note_for_a_trained_network():
    report = report_with()
    assert report.ok and report.notes == []
