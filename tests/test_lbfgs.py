"""nn.optim.LBFGS: iterates against a plain-numpy L-BFGS written here, convergence, errors.

The reference ``reference_lbfgs`` below is a direct transcription of the L-BFGS two-loop
algorithm (Nocedal & Wright, Alg. 7.4) with PyTorch's step-length and stopping rules
(no line search), written on numpy arrays with an explicit gradient: it shares no code
with the optimizer. The comparison with PyTorch itself is optional (skipped without torch).
"""

import numpy as np
import pytest

import nn
import tinygrad_edu as tg
from nn.optim import LBFGS, SGD


def reference_lbfgs(x, grad_fn, loss_fn, steps, lr=1.0, max_iter=20, max_eval=None,
                    tolerance_grad=1e-7, tolerance_change=1e-9, history_size=100):
    """The iterate after each of ``steps`` calls of an L-BFGS step; numpy only."""
    max_eval = max_iter * 5 // 4 if max_eval is None else max_eval
    x = np.array(x, dtype=np.float64)
    S, Y = [], []              # history pairs, oldest first
    total_iters = 0
    d = t = g_prev = None
    gamma = 1.0
    out = []
    for _ in range(steps):
        f, g = loss_fn(x), grad_fn(x)
        evals = 1
        if np.max(np.abs(g)) <= tolerance_grad:
            out.append(x.copy())
            continue
        for k in range(1, max_iter + 1):
            total_iters += 1
            if total_iters == 1:
                d = -g
            else:
                s, y = t * d, g - g_prev
                if y @ s > 1e-10:
                    if len(S) == history_size:
                        S.pop(0), Y.pop(0)
                    S.append(s), Y.append(y)
                    gamma = (y @ s) / (y @ y)
                # two-loop recursion for d = -H g
                q = -g
                alphas = {}
                for i in reversed(range(len(S))):
                    alphas[i] = (S[i] @ q) / (Y[i] @ S[i])
                    q = q - alphas[i] * Y[i]
                r = gamma * q
                for i in range(len(S)):
                    beta = (Y[i] @ r) / (Y[i] @ S[i])
                    r = r + (alphas[i] - beta) * S[i]
                d = r
            g_prev, f_prev = g, f
            t = min(1.0, 1.0 / np.sum(np.abs(g))) * lr if total_iters == 1 else lr
            if g @ d > -tolerance_change:
                break
            x = x + t * d
            if k == max_iter:
                break
            f, g = loss_fn(x), grad_fn(x)
            evals += 1
            if (evals >= max_eval or np.max(np.abs(g)) <= tolerance_grad
                    or np.max(np.abs(t * d)) <= tolerance_change
                    or abs(f - f_prev) < tolerance_change):
                break
        out.append(x.copy())
    return out


def quadratic_problem(n=5, seed=0):
    rng = np.random.default_rng(seed)
    M = rng.standard_normal((n, n))
    A = M @ M.T + n * np.eye(n)          # symmetric positive definite
    b = rng.standard_normal(n)
    return A, b


def run_ours(x0, closure_of, steps, **kw):
    p = nn.Parameter(np.array(x0, dtype=np.float64))
    opt = LBFGS([p], **kw)
    closure = closure_of(p, opt)
    out, losses = [], []
    for _ in range(steps):
        losses.append(opt.step(closure).item())
        out.append(p.numpy().copy())
    return out, losses, opt, p


def quadratic_closure(A, b):
    def closure_of(p, opt):
        def closure():
            opt.zero_grad()
            loss = 0.5 * (p @ (tg.Tensor(A) @ p)) - (tg.Tensor(b) * p).sum()
            loss.backward()
            return loss
        return closure
    return closure_of


@pytest.mark.parametrize("kw", [dict(max_iter=3), dict(max_iter=4, history_size=2, lr=0.7),
                                dict(max_iter=6, max_eval=4)])
def test_quadratic_iterates_match_numpy_reference(kw):
    A, b = quadratic_problem()
    x0 = np.linspace(-1, 2, 5)
    ours, losses, opt, _ = run_ours(x0, quadratic_closure(A, b), steps=3, **kw)
    expected = reference_lbfgs(x0, lambda x: A @ x - b, lambda x: 0.5 * x @ A @ x - b @ x,
                               steps=3, **kw)
    for got, want in zip(ours, expected):
        np.testing.assert_allclose(got, want, rtol=0, atol=1e-12)
    # step() returns the loss at the start of that step
    assert losses[0] == pytest.approx(0.5 * x0 @ A @ x0 - b @ x0, rel=1e-14)
    assert losses[1] == pytest.approx(0.5 * ours[0] @ A @ ours[0] - b @ ours[0], rel=1e-12)


def test_quadratic_reaches_the_solution_and_keeps_state():
    A, b = quadratic_problem()
    # the default tolerance_change (1e-9 on the loss) stops ~1e-6 short of x*: tighten it
    ours, _, opt, p = run_ours(np.zeros(5), quadratic_closure(A, b), steps=2,
                               tolerance_change=1e-15)
    np.testing.assert_allclose(ours[-1], np.linalg.solve(A, b), atol=1e-8)
    state = opt.state[p]
    assert {"func_evals", "n_iter", "d", "t", "old_dirs", "old_stps", "ro", "H_diag",
            "prev_flat_grad", "prev_loss"} <= state.keys()
    assert state["n_iter"] >= 5 and state["func_evals"] >= state["n_iter"]


def rosenbrock_closure(p, opt):
    def closure():
        opt.zero_grad()
        loss = (1 - p[0]) ** 2 + 100 * (p[1] - p[0] ** 2) ** 2
        loss.backward()
        return loss
    return closure


@pytest.mark.parametrize("line_search_fn", [None, "strong_wolfe"])
def test_rosenbrock_converges(line_search_fn):
    lr = 1 if line_search_fn else 0.1   # a fixed step of 1 overshoots on Rosenbrock's valley
    ours, _, _, _ = run_ours([-1.5, 2.0], rosenbrock_closure, steps=30 if lr < 1 else 5,
                             lr=lr, line_search_fn=line_search_fn, tolerance_change=1e-15)
    np.testing.assert_allclose(ours[-1], [1.0, 1.0], atol=1e-6)


def test_time_sequence_prediction_pattern_lstm_cell():
    # pytorch/examples time_sequence_prediction: sine waves, LSTMCell + Linear, LBFGS closure
    tg.manual_seed(0)
    t = np.arange(12)
    waves = np.sin((t[None, :] + np.arange(3)[:, None] * 4) / 3.0)      # (3, 12)
    inputs, targets = waves[:, :-1], waves[:, 1:]

    cell, head = nn.LSTMCell(1, 6), nn.Linear(6, 1)
    params = list(cell.parameters()) + list(head.parameters())
    opt = LBFGS(params, lr=0.8, max_iter=5)

    def forward():
        h, c = None, None
        outs = []
        for i in range(inputs.shape[1]):
            x = tg.Tensor(inputs[:, i:i + 1].astype(np.float32))
            h, c = cell(x, None if h is None else (h, c))
            outs.append(head(h))
        return tg.cat(outs, dim=1)

    def closure():
        opt.zero_grad()
        loss = ((forward() - tg.Tensor(targets.astype(np.float32))) ** 2).mean()
        loss.backward()
        return loss

    losses = [opt.step(closure).item() for _ in range(4)]
    assert all(np.isfinite(losses))
    assert losses[-1] < 0.5 * losses[0]


def test_errors():
    p = nn.Parameter(np.zeros(2))
    opt = LBFGS([p])
    with pytest.raises(TypeError, match="closure is required"):
        opt.step()
    with pytest.raises(ValueError, match="parameter groups"):
        LBFGS([{"params": [p]}, {"params": [nn.Parameter(np.zeros(1))]}])
    with pytest.raises(ValueError, match="parameter groups"):
        opt.add_param_group({"params": [nn.Parameter(np.zeros(1))]})
    with pytest.raises(ValueError, match="line_search_fn"):
        LBFGS([p], line_search_fn="backtracking")


def test_already_optimal_returns_first_loss_without_moving():
    p = nn.Parameter(np.array([0.0, 0.0]))
    opt = LBFGS([p])

    def closure():
        opt.zero_grad()
        loss = (p * p).sum() + 3.0
        loss.backward()
        return loss
    assert opt.step(closure).item() == 3.0
    np.testing.assert_array_equal(p.numpy(), [0.0, 0.0])
    assert opt.state[p]["func_evals"] == 1 and opt.state[p]["n_iter"] == 0


def test_state_dict_round_trip_continues_the_same_way():
    A, b = quadratic_problem(n=4, seed=1)
    closure_of = quadratic_closure(A, b)
    _, _, opt, p = run_ours(np.ones(4), closure_of, steps=1, max_iter=2)
    saved = opt.state_dict()
    assert list(saved["state"]) == [0] and saved["param_groups"][0]["max_iter"] == 2

    p2 = nn.Parameter(p.numpy().copy())
    opt2 = LBFGS([p2], max_iter=7)
    opt2.load_state_dict(saved)
    assert opt2.param_groups[0]["max_iter"] == 2
    opt.step(closure_of(p, opt))       # changes opt's history; the saved copy must not change
    opt2.step(closure_of(p2, opt2))
    np.testing.assert_array_equal(p2.numpy(), p.numpy())
    with pytest.raises(ValueError, match="elements"):
        LBFGS([nn.Parameter(np.zeros(3))]).load_state_dict(saved)


def _torch_iterates(torch, x0, steps, line_search_fn, kw):
    A, b = quadratic_problem(n=4, seed=2)
    x = torch.tensor(x0, dtype=torch.float64, requires_grad=True)
    opt = torch.optim.LBFGS([x], line_search_fn=line_search_fn, **kw)
    At, bt = torch.tensor(A), torch.tensor(b)

    def closure():
        opt.zero_grad()
        loss = 0.5 * x @ (At @ x) - bt @ x + 0.25 * (x ** 4).sum()   # not quadratic: real search
        loss.backward()
        return loss
    out = []
    for _ in range(steps):
        opt.step(closure)
        out.append((x.detach().numpy().copy(), opt.state[x]["func_evals"]))
    return out


@pytest.mark.parametrize("line_search_fn", [None, "strong_wolfe"])
def test_matches_pytorch(line_search_fn):
    torch = pytest.importorskip("torch")
    A, b = quadratic_problem(n=4, seed=2)
    x0 = np.array([2.0, -1.0, 0.5, 1.5])
    kw = dict(max_iter=4, history_size=3)
    expected = _torch_iterates(torch, x0, 3, line_search_fn, kw)
    p = nn.Parameter(x0.copy())
    opt = LBFGS([p], line_search_fn=line_search_fn, **kw)

    def closure():
        opt.zero_grad()
        loss = 0.5 * (p @ (tg.Tensor(A) @ p)) - (tg.Tensor(b) * p).sum() + 0.25 * (p ** 4).sum()
        loss.backward()
        return loss
    for want, evals in expected:
        opt.step(closure)
        np.testing.assert_allclose(p.numpy(), want, rtol=0, atol=1e-10)
        assert opt.state[p]["func_evals"] == evals


def test_sgd_still_imported():
    assert SGD is nn.optim.SGD and LBFGS is nn.optim.LBFGS


def test_graph_from_before_a_step_refuses_backward():
    p = nn.Parameter(np.array([3.0, 1.0]))
    opt = LBFGS([p])

    def closure():
        opt.zero_grad()
        loss = (p * p).sum()
        loss.backward()
        return loss
    stale = (p * p).sum()
    opt.step(closure)
    np.testing.assert_allclose(p.numpy(), [0.0, 0.0], atol=1e-12)   # exact on x.x
    with pytest.raises(RuntimeError, match="changed in place"):
        stale.backward()


def test_parameter_without_gradient_is_left_alone():
    p, unused = nn.Parameter(np.array([2.0])), nn.Parameter(np.array([5.0, 6.0]))
    opt = LBFGS([p, unused])

    def closure():
        opt.zero_grad()
        loss = ((p - 1) ** 2).sum()
        loss.backward()
        return loss
    opt.step(closure)
    np.testing.assert_array_equal(unused.numpy(), [5.0, 6.0])
    np.testing.assert_allclose(p.numpy(), [1.0], atol=1e-8)
