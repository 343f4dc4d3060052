"""L-BFGS, with PyTorch's iteration, stopping rules and (optional) strong Wolfe line search.

Unlike SGD or Adam, one ``step(closure)`` runs a whole small optimization: up to ``max_iter``
iterations, each calling ``closure`` (which must zero the gradients, compute the loss, call
``backward()`` and return the loss) to get the loss and gradient at new parameter values.
All the parameters are seen as one flat vector x (their arrays concatenated in order);
each iteration moves x along a direction d built from the last ``history_size`` pairs

    s_k = x_{k+1} - x_k,    y_k = grad_{k+1} - grad_k

by the two-loop recursion, which applies the L-BFGS inverse-Hessian estimate H to -grad
without forming H. The parameter arrays are changed in place under ``no_grad``: plain array
arithmetic, not a derivative. The state (history, last direction and step) lives in
``optimizer.state[first_parameter]``, as in PyTorch, so the next ``step`` carries on.
"""

import numpy as np

import tinygrad_edu as tg
from tinygrad_edu.autograd import increment_version

from .optimizer import Optimizer


def _cubic_minimum(x1, f1, g1, x2, f2, g2, bounds=None):
    """The minimizer of the cubic through (x1, f1) and (x2, f2) with slopes g1, g2, clipped.

    With d1 = g1 + g2 - 3 (f1 - f2) / (x1 - x2) and d2 = sqrt(d1^2 - g1 g2), the cubic's
    minimum (x1 <= x2) is x2 - (x2 - x1) (g2 + d2 - d1) / (g2 - g1 + 2 d2); it is clipped
    to ``bounds`` (default: the interval between x1 and x2). If d1^2 < g1 g2 the cubic has
    no minimum and the bounds' midpoint is returned.
    """
    lo, hi = bounds if bounds is not None else (min(x1, x2), max(x1, x2))
    d1 = g1 + g2 - 3 * (f1 - f2) / (x1 - x2)
    d2_square = d1 * d1 - g1 * g2
    if d2_square < 0:
        return (lo + hi) / 2.0
    d2 = np.sqrt(d2_square)
    if x1 <= x2:
        x = x2 - (x2 - x1) * ((g2 + d2 - d1) / (g2 - g1 + 2 * d2))
    else:
        x = x1 - (x1 - x2) * ((g1 + d2 - d1) / (g1 - g2 + 2 * d2))
    return min(max(x, lo), hi)


def _strong_wolfe(evaluate, t, d, f, g, gtd, c1=1e-4, c2=0.9, tolerance_change=1e-9,
                  max_ls=25):
    """Find a step t along d meeting the strong Wolfe conditions (Nocedal & Wright, Alg. 3.5-3.6).

    ``evaluate(t)`` returns (loss, flat gradient) at x + t d; f, g, gtd are the loss, gradient
    and slope g.d at t = 0. Sufficient decrease: f(t) <= f + c1 t gtd; curvature:
    |g(t).d| <= -c2 gtd. First the step is grown (by cubic interpolation, within
    [t + 0.01 (t - t_prev), 10 t]) until an interval brackets such a point, then the interval
    is shrunk (zoom) by cubic interpolation, at most ``max_ls`` evaluations in all.
    Returns (loss, gradient, t, number of evaluations), at the best point found.
    """
    d_norm = np.abs(d).max()
    f_new, g_new = evaluate(t)
    evals = 1
    gtd_new = g_new.dot(d)
    t_prev, f_prev, g_prev, gtd_prev = 0, f, g, gtd
    done = False
    ls_iter = 0
    bracket_gtd = None
    # bracketing phase: find an interval that holds an acceptable step
    while ls_iter < max_ls:
        if f_new > f + c1 * t * gtd or (ls_iter > 1 and f_new >= f_prev):
            bracket, bracket_f = [t_prev, t], [f_prev, f_new]
            bracket_g, bracket_gtd = [g_prev, g_new], [gtd_prev, gtd_new]
            break
        if abs(gtd_new) <= -c2 * gtd:
            bracket, bracket_f, bracket_g = [t], [f_new], [g_new]
            done = True
            break
        if gtd_new >= 0:   # the slope turned up: a minimum lies between t_prev and t
            bracket, bracket_f = [t_prev, t], [f_prev, f_new]
            bracket_g, bracket_gtd = [g_prev, g_new], [gtd_prev, gtd_new]
            break
        # still going down: extrapolate, at least a little past t and at most 10 t
        t_next = _cubic_minimum(t_prev, f_prev, gtd_prev, t, f_new, gtd_new,
                                bounds=(t + 0.01 * (t - t_prev), t * 10))
        t_prev, f_prev, g_prev, gtd_prev = t, f_new, g_new, gtd_new
        t = t_next
        f_new, g_new = evaluate(t)
        evals += 1
        gtd_new = g_new.dot(d)
        ls_iter += 1
    if ls_iter == max_ls:
        bracket, bracket_f, bracket_g = [0, t], [f, f_new], [g, g_new]

    # zoom phase: shrink the bracket; low is the end with the lower loss
    insufficient_progress = False
    low, high = (0, 1) if bracket_f[0] <= bracket_f[-1] else (1, 0)
    while not done and ls_iter < max_ls:
        if abs(bracket[1] - bracket[0]) * d_norm < tolerance_change:
            break
        t = _cubic_minimum(bracket[0], bracket_f[0], bracket_gtd[0],
                           bracket[1], bracket_f[1], bracket_gtd[1])
        # a point too close to an end makes little progress: move it 10% of the width in
        top, bottom = max(bracket), min(bracket)
        eps = 0.1 * (top - bottom)
        if min(top - t, t - bottom) < eps:
            if insufficient_progress or t >= top or t <= bottom:
                t = top - eps if abs(t - top) < abs(t - bottom) else bottom + eps
                insufficient_progress = False
            else:
                insufficient_progress = True
        else:
            insufficient_progress = False
        f_new, g_new = evaluate(t)
        evals += 1
        gtd_new = g_new.dot(d)
        ls_iter += 1
        if f_new > f + c1 * t * gtd or f_new >= bracket_f[low]:
            # not low enough: t becomes the high end
            bracket[high], bracket_f[high] = t, f_new
            bracket_g[high], bracket_gtd[high] = g_new, gtd_new
            low, high = (0, 1) if bracket_f[0] <= bracket_f[1] else (1, 0)
        else:
            if abs(gtd_new) <= -c2 * gtd:
                done = True
            elif gtd_new * (bracket[high] - bracket[low]) >= 0:
                # the old low end is on the wrong side of t's slope: it becomes the high end
                bracket[high], bracket_f[high] = bracket[low], bracket_f[low]
                bracket_g[high], bracket_gtd[high] = bracket_g[low], bracket_gtd[low]
            bracket[low], bracket_f[low] = t, f_new
            bracket_g[low], bracket_gtd[low] = g_new, gtd_new
    return bracket_f[low], bracket_g[low], bracket[low], evals


class LBFGS(Optimizer):
    """L-BFGS, as PyTorch's ``torch.optim.LBFGS`` computes it; ``step(closure)`` is required.

    One ``step(closure)`` runs up to ``max_iter`` iterations (and ``max_eval`` closure calls,
    default ``max_iter * 5 // 4``) and returns the loss of the closure's *first* call. Each
    iteration, with g the flat gradient of all parameters:
      first iteration ever: d = -g;  otherwise (s, y) = (t d_prev, g - g_prev) joins the
        history (oldest dropped past ``history_size``) when y.s > 1e-10, then the two-loop
        recursion gives d = -H g, with H's initial scale y.y-weighted: y.s / y.y
      t = min(1, 1 / sum|g|) * lr on the first iteration ever, lr afterwards
      stop if g.d > -tolerance_change (not a descent direction)
      x = x + t d (or, with line_search_fn="strong_wolfe", t from a strong Wolfe search)
    It stops early when max|g| <= tolerance_grad, max|t d| <= tolerance_change or the loss
    changes by less than tolerance_change. Without a line search the last iteration does not
    call the closure again. Only one parameter group is allowed (as in PyTorch); all
    parameters are treated as one flat vector, so they should share a dtype.
    """

    def __init__(self, params, lr=1, max_iter=20, max_eval=None, tolerance_grad=1e-7,
                 tolerance_change=1e-9, history_size=100, line_search_fn=None):
        if max_eval is None:
            max_eval = max_iter * 5 // 4
        if line_search_fn not in (None, "strong_wolfe"):
            raise ValueError(f"LBFGS: line_search_fn must be None or 'strong_wolfe', got "
                             f"{line_search_fn!r}")
        for key, value in (("max_iter", max_iter), ("max_eval", max_eval),
                           ("history_size", history_size)):
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
                raise ValueError(f"LBFGS: {key} must be a positive integer, got {value!r}")
        super().__init__(params, dict(lr=lr, max_iter=max_iter, max_eval=max_eval,
                                      tolerance_grad=tolerance_grad,
                                      tolerance_change=tolerance_change,
                                      history_size=history_size,
                                      line_search_fn=line_search_fn))
        if len(self.param_groups) != 1:
            raise ValueError("LBFGS doesn't support per-parameter options (parameter groups): "
                             f"got {len(self.param_groups)} groups; pass one list of parameters")
        self._params = self.param_groups[0]["params"]

    def add_param_group(self, group):
        """Only allowed for the first (only) group: L-BFGS keeps one history for all parameters."""
        if self.param_groups:
            raise ValueError("LBFGS doesn't support per-parameter options (parameter groups): "
                             "it already has its one group")
        super().add_param_group(group)

    def _flat_grad(self):
        """All gradients as one new flat array (zeros for a parameter whose .grad is None)."""
        return np.concatenate([np.zeros(p.numpy().size, p.dtype) if p.grad is None
                               else p.grad.numpy().reshape(-1) for p in self._params])

    def _flat_params(self):
        return [p.numpy().copy() for p in self._params]

    def _add_step(self, t, d):
        """x = x + t d, written into each parameter's array in place."""
        offset = 0
        for p in self._params:
            data = p.numpy()
            data += t * d[offset:offset + data.size].reshape(data.shape)
            offset += data.size
        increment_version(*self._params)

    def _set_params(self, saved):
        for p, values in zip(self._params, saved):
            np.copyto(p.numpy(), values)
        increment_version(*self._params)

    def step(self, closure=None):
        """Run up to ``max_iter`` L-BFGS iterations; return the loss of the closure's first call.

        ``closure()`` must zero the gradients, compute the loss, call ``backward()`` and
        return the loss; it is called with gradients enabled, several times per step.
        """
        if closure is None:
            raise TypeError("LBFGS.step: a closure is required (L-BFGS evaluates the loss "
                            "several times per step): step(closure) with a closure that calls "
                            "optimizer.zero_grad(), computes the loss, calls loss.backward() "
                            "and returns the loss")
        if not callable(closure):
            raise TypeError(f"LBFGS.step: closure must be callable, got {type(closure).__name__}")
        if len(self.param_groups) != 1:
            raise ValueError(f"LBFGS.step: expected exactly one parameter group, got "
                             f"{len(self.param_groups)}")
        self._opt_called = True

        def evaluate():
            with tg.enable_grad():
                loss = closure()
            return loss

        group = self.param_groups[0]
        lr = group["lr"]
        max_iter, max_eval = group["max_iter"], group["max_eval"]
        tolerance_grad, tolerance_change = group["tolerance_grad"], group["tolerance_change"]
        line_search_fn, history_size = group["line_search_fn"], group["history_size"]
        if line_search_fn not in (None, "strong_wolfe"):
            raise ValueError(f"LBFGS: line_search_fn must be None or 'strong_wolfe', got "
                             f"{line_search_fn!r}")

        # the state is global, kept under the first parameter as PyTorch does
        state = self.state.setdefault(self._params[0], {})
        state.setdefault("func_evals", 0)
        state.setdefault("n_iter", 0)

        orig_loss = evaluate()
        loss = float(orig_loss)
        current_evals = 1
        state["func_evals"] += 1
        flat_grad = self._flat_grad()
        if np.abs(flat_grad).max() <= tolerance_grad:
            return orig_loss   # already optimal

        d, t = state.get("d"), state.get("t")
        old_dirs, old_stps, ro = state.get("old_dirs"), state.get("old_stps"), state.get("ro")
        H_diag = state.get("H_diag")
        prev_flat_grad, prev_loss = state.get("prev_flat_grad"), state.get("prev_loss")

        with tg.no_grad():
            n_iter = 0
            while n_iter < max_iter:
                n_iter += 1
                state["n_iter"] += 1

                # the direction d
                if state["n_iter"] == 1:
                    d = -flat_grad
                    old_dirs, old_stps, ro = [], [], []
                    H_diag = 1
                else:
                    y = flat_grad - prev_flat_grad
                    s = d * t
                    ys = y.dot(s)
                    if ys > 1e-10:   # only pairs with positive curvature keep H positive
                        if len(old_dirs) == history_size:
                            old_dirs.pop(0)
                            old_stps.pop(0)
                            ro.pop(0)
                        old_dirs.append(y)
                        old_stps.append(s)
                        ro.append(1.0 / ys)
                        H_diag = ys / y.dot(y)
                    # two-loop recursion: q = -g, newest pair first
                    #   a_i = rho_i s_i.q;  q = q - a_i y_i
                    # r = H_diag q, then oldest pair first
                    #   b_i = rho_i y_i.r;  r = r + (a_i - b_i) s_i
                    # and r = -H g
                    num_old = len(old_dirs)
                    al = [None] * num_old
                    q = -flat_grad
                    for i in range(num_old - 1, -1, -1):
                        al[i] = old_stps[i].dot(q) * ro[i]
                        q -= al[i] * old_dirs[i]
                    d = r = q * H_diag
                    for i in range(num_old):
                        be_i = old_dirs[i].dot(r) * ro[i]
                        r += (al[i] - be_i) * old_stps[i]

                prev_flat_grad = flat_grad.copy()
                prev_loss = loss

                # the step length
                if state["n_iter"] == 1:
                    t = min(1.0, 1.0 / np.abs(flat_grad).sum()) * lr
                else:
                    t = lr
                gtd = flat_grad.dot(d)
                if gtd > -tolerance_change:
                    break   # d is not (enough of) a descent direction

                ls_func_evals = 0
                opt_cond = False
                if line_search_fn is not None:
                    x_init = self._flat_params()

                    def at_step(step):
                        self._add_step(step, d)
                        value = float(evaluate())
                        grad = self._flat_grad()
                        self._set_params(x_init)
                        return value, grad

                    loss, flat_grad, t, ls_func_evals = _strong_wolfe(
                        at_step, t, d, loss, flat_grad, gtd, max_ls=max_eval - current_evals)
                    self._add_step(t, d)
                    opt_cond = np.abs(flat_grad).max() <= tolerance_grad
                else:
                    self._add_step(t, d)
                    if n_iter != max_iter:
                        # the last iteration does not re-evaluate (as PyTorch: useless
                        # in a stochastic setting, where the next step draws new data)
                        loss = float(evaluate())
                        flat_grad = self._flat_grad()
                        opt_cond = np.abs(flat_grad).max() <= tolerance_grad
                        ls_func_evals = 1
                current_evals += ls_func_evals
                state["func_evals"] += ls_func_evals

                if n_iter == max_iter or current_evals >= max_eval or opt_cond:
                    break
                if np.abs(d * t).max() <= tolerance_change:
                    break   # the step barely moves x
                if abs(loss - prev_loss) < tolerance_change:
                    break   # the loss barely changes

        state.update(d=d, t=t, old_dirs=old_dirs, old_stps=old_stps, ro=ro, H_diag=H_diag,
                     prev_flat_grad=prev_flat_grad, prev_loss=prev_loss)
        return orig_loss

    def _update(self, p, data, grad, group, state):
        raise RuntimeError("LBFGS updates all parameters together in step(closure)")

    def state_dict(self):
        """Settings and state as plain data, as PyTorch's: the state is under parameter 0.

        The history lists (old_dirs, old_stps, ro) are copied, so the dict stays apart from
        the optimizer as it goes on.
        """
        saved = super().state_dict()
        for s in saved["state"].values():
            for key, value in s.items():
                if isinstance(value, list):
                    s[key] = [v.copy() if isinstance(v, np.ndarray) else v for v in value]
        return saved

    def load_state_dict(self, state_dict):
        """Restore what ``state_dict()`` saved (for the same parameters); arrays are copied.

        Flat arrays (d, prev_flat_grad, the history) must have as many elements as all the
        parameters together.
        """
        if not isinstance(state_dict, dict) or not {"state", "param_groups"} <= state_dict.keys():
            raise ValueError("LBFGS.load_state_dict: expected the dict that "
                             "optimizer.state_dict() returns, with 'state' and 'param_groups'")
        groups = state_dict["param_groups"]
        if len(groups) != 1 or len(groups[0]["params"]) != len(self._params):
            raise ValueError(f"LBFGS.load_state_dict: the saved groups have "
                             f"{[len(g['params']) for g in groups]} parameters, this "
                             f"optimizer's [{len(self._params)}]")
        numel = sum(p.numpy().size for p in self._params)
        dtype = self._params[0].dtype

        def restore(key, value):
            if isinstance(value, tg.Tensor):
                value = value.numpy()
            if isinstance(value, np.ndarray) and value.ndim == 0:
                return value.item()
            if isinstance(value, np.ndarray):
                if value.size != numel:
                    raise ValueError(f"LBFGS.load_state_dict: state {key!r} has "
                                     f"{value.size} elements, the parameters {numel}")
                return np.array(value, dtype=dtype).reshape(-1)
            if isinstance(value, (list, tuple)):
                return [restore(key, v) for v in value]
            return value

        state = {}
        for i, saved in state_dict["state"].items():
            if int(i) != 0:
                raise ValueError(f"LBFGS.load_state_dict: the state is kept under parameter "
                                 f"0, got an entry for parameter {i}")
            state[self._params[0]] = {k: restore(k, v) for k, v in saved.items()}
        self.param_groups[0].update({k: v for k, v in groups[0].items() if k != "params"})
        self.state = state
