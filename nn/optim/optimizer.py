"""Optimizers: SGD, Adam, AdamW, RMSprop, Adagrad, Adadelta, with PyTorch's update formulas.

An optimizer step is plain numpy arithmetic on each parameter's array, in place and in the
parameter's dtype, run under ``no_grad``: it reads ``p.grad`` (filled by ``backward()``)
and moves the parameter's array (``p.numpy()``). That is not a derivative, and it records
nothing in the graph.

The usual loop::

    opt = Adam(model.parameters(), lr=1e-3)
    for xb, yb in batches:
        loss = loss_fn(model(xb), yb)
        opt.zero_grad()        # gradients add up across backward() calls otherwise
        loss.backward()
        opt.step()

``opt.param_groups`` is a list of dicts ('params', 'lr', ...); change a group's 'lr' to
schedule the learning rate (or use ``nn.optim.lr_scheduler``). Parameters whose ``.grad``
is None are left alone. ``maximize=True`` (every optimizer) flips the gradient's sign
first, so the steps climb the objective instead of descending it.
"""

import warnings

import numpy as np

import tinygrad_edu as tg
from tinygrad_edu import Tensor
from tinygrad_edu.autograd import increment_version


class Optimizer:
    """Base class: holds ``param_groups`` and per-parameter ``state``; subclasses write ``_update``.

    ``params`` is an iterable (a list, or the generator ``model.parameters()``) of Tensors,
    or of dicts ``{'params': [...], 'lr': ...}`` giving some groups their own settings.
    """

    def __init__(self, params, defaults):
        self.defaults = dict(defaults)
        # per-parameter state (momentum buffers, Adam's moments), keyed by the parameter
        # itself: Tensor hashes by identity, so this is safe despite elementwise ==
        self.state = {}
        self.param_groups = []
        name = type(self).__name__
        if isinstance(params, Tensor):
            raise TypeError(f"{name}: params must be an iterable of Tensors, got a single "
                            "Tensor; wrap it in a list: [t]")
        if hasattr(params, "parameters") and callable(params.parameters):
            raise TypeError(f"{name}: got the model ({type(params).__name__}) itself; pass "
                            "its parameters: model.parameters()")
        if callable(params):
            raise TypeError(f"{name}: got the function {getattr(params, '__name__', params)!r} "
                            "instead of the parameters; call it: model.parameters() (note the ())")
        try:
            params = list(params)
        except TypeError:
            raise TypeError(f"{name}: params must be an iterable of Tensors (such as "
                            f"model.parameters()), got {type(params).__name__}") from None
        if not params:
            raise ValueError(f"{name}: got an empty parameter list; pass model.parameters() of "
                             "a model that has parameters (a generator such as "
                             "model.parameters() is used up by the first optimizer it is given)")
        groups = params if isinstance(params[0], dict) else [{"params": params}]
        for group in groups:
            self.add_param_group(group)

    def add_param_group(self, group):
        """Add a group ``{'params': [...], <setting>: value}``; missing settings take defaults."""
        name = type(self).__name__
        if not isinstance(group, dict):
            raise TypeError(f"{name}: a parameter group must be a dict with a 'params' entry, "
                            f"got {type(group).__name__}")
        group = dict(group)
        params = group.get("params")
        params = [params] if isinstance(params, Tensor) else list(params or [])
        if not params:
            raise ValueError(f"{name}: got an empty parameter list")
        unique, seen = [], set()
        for i, p in enumerate(params):
            if not isinstance(p, Tensor):
                raise TypeError(f"{name}: parameter {i} is a {type(p).__name__}, not a Tensor; "
                                "pass model.parameters() or a list of Tensors")
            if p.dtype.kind != "f":
                raise TypeError(f"{name}: parameter {i} has dtype {p.dtype}; only floating-point "
                                "tensors can be optimized")
            if not p.is_leaf:
                raise ValueError(f"{name}: parameter {i} (shape {p.shape}) was computed by an "
                                 "operation, so it is not a leaf and never gets a .grad; "
                                 "optimize the tensors you created instead")
            if id(p) in seen:
                warnings.warn(f"{name}: parameter {i} appears twice in the list; it is kept once",
                              UserWarning, stacklevel=3)
                continue
            seen.add(id(p))
            unique.append(p)
        for other in self.param_groups:
            if any(id(p) in seen for p in other["params"]):
                raise ValueError(f"{name}: some parameters appear in more than one group")
        for key, value in self.defaults.items():
            group.setdefault(key, value)
        group["params"] = unique
        self._check_settings(group)
        self.param_groups.append(group)

    def _check_settings(self, group):
        lr = group["lr"]
        if isinstance(lr, bool) or not isinstance(lr, (int, float)) or lr < 0:
            raise ValueError(f"{type(self).__name__}: invalid learning rate {lr!r}; it must be "
                             "a non-negative number")
        if group.get("weight_decay", 0) < 0:
            raise ValueError(f"{type(self).__name__}: invalid weight_decay "
                             f"{group['weight_decay']!r}; it must be non-negative")
        for key in ("eps", "momentum", "alpha", "lr_decay", "initial_accumulator_value"):
            if key in group and group[key] < 0:
                raise ValueError(f"{type(self).__name__}: invalid {key} {group[key]!r}; it "
                                 "must be non-negative")

    def zero_grad(self, set_to_none=True):
        """Clear every parameter's gradient: ``p.grad = None`` (the default) or zero it in place."""
        for group in self.param_groups:
            for p in group["params"]:
                if set_to_none:
                    p.grad = None
                elif p.grad is not None:
                    p.grad.zero_()

    def step(self, closure=None):
        """Update every parameter that has a gradient. ``closure`` (optional) recomputes and
        returns the loss, as in PyTorch; its value is returned."""
        loss = None
        if closure is not None:
            with tg.enable_grad():
                loss = closure()
        self._opt_called = True   # lets a learning-rate scheduler check the order of calls
        changed = []
        with tg.no_grad():
            for group in self.param_groups:
                for p in group["params"]:
                    if p.grad is None:
                        continue
                    grad = p.grad.numpy()
                    if group.get("maximize", False):
                        grad = -grad   # climb the objective: every optimizer, one place
                    self._update(p, p.numpy(), grad, group, self.state.setdefault(p, {}))
                    changed.append(p)
        # a graph recorded before this step must not run backward on the new values; the
        # line named is the caller's (stacklevel=2: one frame, not a stack walk: W1 -3%)
        increment_version(*changed, stacklevel=2)
        return loss

    def _update(self, p, data, grad, group, state):
        """Change ``data`` (the array of parameter ``p``) in place, given ``grad``."""
        raise NotImplementedError

    def state_dict(self):
        """The optimizer's settings and state as plain data; parameters are given by position."""
        index = {}
        groups = []
        for group in self.param_groups:
            for p in group["params"]:
                index.setdefault(id(p), len(index))
            settings = {k: v for k, v in group.items() if k != "params"}
            settings["params"] = [index[id(p)] for p in group["params"]]
            groups.append(settings)
        state = {index[id(p)]: {k: (v.copy() if isinstance(v, np.ndarray) else v)
                                for k, v in s.items()}
                 for p, s in self.state.items() if id(p) in index}
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict):
        """Restore settings and state saved by ``state_dict()`` for the same parameter layout.

        Arrays in the state (numpy arrays or Tensors) are copied in each parameter's dtype
        and shape, so a checkpoint from ``tg.load`` can be given as it is.
        """
        name = type(self).__name__
        if not isinstance(state_dict, dict) or not {"state", "param_groups"} <= state_dict.keys():
            raise ValueError(f"{name}.load_state_dict: expected the dict that "
                             "optimizer.state_dict() returns, with 'state' and 'param_groups'; "
                             f"got {type(state_dict).__name__}"
                             + (f" with keys {sorted(map(str, state_dict))}"
                                if isinstance(state_dict, dict) else ""))
        saved_groups = state_dict["param_groups"]
        saved_sizes = [len(g["params"]) for g in saved_groups]
        own_sizes = [len(g["params"]) for g in self.param_groups]
        if saved_sizes != own_sizes:
            raise ValueError(f"{type(self).__name__}.load_state_dict: the saved groups have "
                             f"{saved_sizes} parameters, this optimizer's {own_sizes}")
        params = [p for group in self.param_groups for p in group["params"]]
        state = {}
        for i, saved in state_dict["state"].items():
            p = params[int(i)]
            state[p] = {}
            for key, value in saved.items():
                if isinstance(value, Tensor):
                    value = value.numpy()
                if isinstance(value, np.ndarray) and value.ndim == 0 and p.ndim != 0:
                    value = value.item()   # a step count saved as a 0-d array
                elif isinstance(value, np.ndarray) and value.shape == p.shape:
                    value = np.array(value, dtype=p.dtype)   # a copy: the saved dict stays apart
                elif isinstance(value, np.ndarray):
                    raise ValueError(f"{name}.load_state_dict: state {key!r} of parameter {i} "
                                     f"has shape {value.shape}, the parameter {p.shape}")
                state[p][key] = value
        # nothing is changed until everything has been checked
        for group, saved in zip(self.param_groups, saved_groups):
            group.update({k: v for k, v in saved.items() if k != "params"})
        self.state = state

    def __repr__(self):
        lines = [f"{type(self).__name__} ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            lines += [f"    {k}: {v}" for k, v in sorted(group.items()) if k != "params"]
        return "\n".join(lines + [")"])


class SGD(Optimizer):
    """Stochastic gradient descent, optionally with momentum, as PyTorch computes it.

    Each step, with g = p.grad (g = -p.grad with ``maximize=True``):
      g = g + weight_decay * p                          (L2 penalty, if weight_decay)
      b = g on the first step, else momentum * b + (1 - dampening) * g   (if momentum)
      g = g + momentum * b if nesterov, else b
      p = p - lr * g
    Note PyTorch's convention: the velocity accumulates gradients, and lr multiplies it.
    """

    def __init__(self, params, lr=1e-3, momentum=0.0, dampening=0.0, weight_decay=0.0,
                 nesterov=False, *, maximize=False):
        if momentum < 0:
            raise ValueError(f"SGD: invalid momentum {momentum!r}; it must be non-negative")
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("SGD: nesterov momentum needs momentum > 0 and dampening = 0")
        super().__init__(params, dict(lr=lr, momentum=momentum, dampening=dampening,
                                      weight_decay=weight_decay, nesterov=nesterov,
                                      maximize=maximize))

    def _update(self, p, data, grad, group, state):
        lr, momentum = group["lr"], group["momentum"]
        if group["weight_decay"] != 0:
            grad = grad + group["weight_decay"] * data
        if momentum != 0:
            buf = state.get("momentum_buffer")
            if buf is None:
                # the first step starts the velocity at the gradient itself (no dampening)
                buf = state["momentum_buffer"] = np.array(grad, dtype=data.dtype, copy=True)
            else:
                buf *= momentum
                buf += (1 - group["dampening"]) * grad
            # Nesterov looks one step ahead along the velocity
            grad = grad + momentum * buf if group["nesterov"] else buf
        data -= lr * grad


class Adam(Optimizer):
    """Adam, as PyTorch computes it (weight_decay is an L2 penalty added to the gradient).

    Each step t = 1, 2, ... with g = p.grad (g = -p.grad with ``maximize=True``):
      g = g + weight_decay * p                          (if weight_decay)
      m = beta1 * m + (1 - beta1) * g                   (first moment: a running mean)
      v = beta2 * v + (1 - beta2) * g^2                 (second moment)
      v_max = max(v_max, v); use v_max for v below      (only with amsgrad=True)
      m_hat = m / (1 - beta1^t);  v_hat = v / (1 - beta2^t)   (undo the bias towards 0)
      p = p - lr * m_hat / (sqrt(v_hat) + eps)
    m and v start at zero. For decoupled weight decay use AdamW.
    """

    _decoupled_weight_decay = False

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0,
                 amsgrad=False, *, maximize=False):
        for i, beta in enumerate(betas):
            if not 0 <= beta < 1:
                raise ValueError(f"{type(self).__name__}: invalid beta{i + 1} {beta!r}; it "
                                 "must be in [0, 1)")
        if eps < 0:
            raise ValueError(f"{type(self).__name__}: invalid eps {eps!r}; it must be non-negative")
        super().__init__(params, dict(lr=lr, betas=tuple(betas), eps=eps,
                                      weight_decay=weight_decay, amsgrad=amsgrad,
                                      maximize=maximize))

    def _update(self, p, data, grad, group, state):
        lr, eps, decay = group["lr"], group["eps"], group["weight_decay"]
        beta1, beta2 = group["betas"]
        if decay != 0:
            if self._decoupled_weight_decay:
                data *= 1 - lr * decay      # AdamW: shrink the weights, apart from the gradient
            else:
                grad = grad + decay * data  # Adam: L2 penalty, which then gets rescaled by v
        if not state:
            state["step"] = 0
            state["exp_avg"] = np.zeros_like(data)
            state["exp_avg_sq"] = np.zeros_like(data)
        if group["amsgrad"] and "max_exp_avg_sq" not in state:
            state["max_exp_avg_sq"] = np.zeros_like(data)
        state["step"] += 1
        t, m, v = state["step"], state["exp_avg"], state["exp_avg_sq"]
        m *= beta1
        m += (1 - beta1) * grad
        v *= beta2
        v += (1 - beta2) * grad * grad
        if group["amsgrad"]:
            # AMSGrad: the largest second moment so far, so the step size never grows back
            np.maximum(state["max_exp_avg_sq"], v, out=state["max_exp_avg_sq"])
            v = state["max_exp_avg_sq"]
        m_hat = m / (1 - beta1 ** t)
        v_hat = v / (1 - beta2 ** t)
        data -= lr * m_hat / (np.sqrt(v_hat) + eps)


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov & Hutter), as PyTorch computes it.

    Each step first shrinks the weights, p = p - lr * weight_decay * p, then takes a plain
    Adam step (no L2 term in the gradient). Default weight_decay is 1e-2.
    """

    _decoupled_weight_decay = True

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2,
                 amsgrad=False, *, maximize=False):
        super().__init__(params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                         amsgrad=amsgrad, maximize=maximize)


class RMSprop(Optimizer):
    """RMSprop, as PyTorch computes it: each weight's step divided by its recent gradient size.

    Each step with g = p.grad (g = -p.grad with ``maximize=True``):
      g = g + weight_decay * p                          (if weight_decay)
      v = alpha * v + (1 - alpha) * g^2                 (running mean of squares, from 0)
      avg = sqrt(v) + eps;  with centered=True: a = alpha * a + (1 - alpha) * g,
                                                avg = sqrt(v - a^2) + eps
      b = momentum * b + g / avg;  p = p - lr * b       (if momentum > 0)
      p = p - lr * g / avg                              (otherwise)
    Note the default lr is 1e-2 and eps is added after the square root.
    """

    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0.0, momentum=0.0,
                 centered=False, *, maximize=False):
        if not 0 <= alpha <= 1:
            raise ValueError(f"RMSprop: invalid alpha {alpha!r}; it must be in [0, 1]")
        super().__init__(params, dict(lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay,
                                      momentum=momentum, centered=centered, maximize=maximize))

    def _update(self, p, data, grad, group, state):
        alpha, eps, momentum = group["alpha"], group["eps"], group["momentum"]
        if not state:
            state["step"] = 0
            state["square_avg"] = np.zeros_like(data)
            if momentum > 0:
                state["momentum_buffer"] = np.zeros_like(data)
            if group["centered"]:
                state["grad_avg"] = np.zeros_like(data)
        state["step"] += 1
        if group["weight_decay"] != 0:
            grad = grad + group["weight_decay"] * data
        v = state["square_avg"]
        v *= alpha
        v += (1 - alpha) * grad * grad
        if group["centered"]:
            # centred: divide by the standard deviation of the gradient, not its RMS
            a = state["grad_avg"]
            a += (1 - alpha) * (grad - a)
            avg = np.sqrt(v - a * a) + eps
        else:
            avg = np.sqrt(v) + eps
        if momentum > 0:
            buf = state.setdefault("momentum_buffer", np.zeros_like(data))
            buf *= momentum
            buf += grad / avg
            data -= group["lr"] * buf
        else:
            data -= group["lr"] * grad / avg


class Adagrad(Optimizer):
    """Adagrad, as PyTorch computes it: steps shrink with the sum of all squared gradients.

    Each step t = 1, 2, ... with g = p.grad (g = -p.grad with ``maximize=True``):
      g = g + weight_decay * p                          (if weight_decay)
      s = s + g^2                                       (s starts at initial_accumulator_value)
      p = p - lr / (1 + (t - 1) * lr_decay) * g / (sqrt(s) + eps)
    """

    def __init__(self, params, lr=1e-2, lr_decay=0.0, weight_decay=0.0,
                 initial_accumulator_value=0.0, eps=1e-10, *, maximize=False):
        super().__init__(params, dict(lr=lr, lr_decay=lr_decay, weight_decay=weight_decay,
                                      initial_accumulator_value=initial_accumulator_value,
                                      eps=eps, maximize=maximize))
        # PyTorch makes the state when the optimizer is made, so it is saved from the start
        for group in self.param_groups:
            for p in group["params"]:
                self.state[p] = {"step": 0, "sum": np.full_like(
                    p.numpy(), group["initial_accumulator_value"])}

    def _update(self, p, data, grad, group, state):
        if not state:   # a parameter added later, or state loaded without it
            state["step"] = 0
            state["sum"] = np.full_like(data, group["initial_accumulator_value"])
        state["step"] += 1
        if group["weight_decay"] != 0:
            grad = grad + group["weight_decay"] * data
        clr = group["lr"] / (1 + (state["step"] - 1) * group["lr_decay"])
        state["sum"] += grad * grad
        data -= clr * grad / (np.sqrt(state["sum"]) + group["eps"])


class Adadelta(Optimizer):
    """Adadelta, as PyTorch computes it: the step is scaled by the size of recent steps.

    Each step with g = p.grad (g = -p.grad with ``maximize=True``):
      g = g + weight_decay * p                          (if weight_decay)
      v = rho * v + (1 - rho) * g^2                     (running mean of squared gradients)
      delta = sqrt(u + eps) / sqrt(v + eps) * g         (u: running mean of squared steps)
      u = rho * u + (1 - rho) * delta^2
      p = p - lr * delta
    v and u start at zero; lr (default 1.0) only scales the step.
    """

    def __init__(self, params, lr=1.0, rho=0.9, eps=1e-6, weight_decay=0.0, *,
                 maximize=False):
        if not 0 <= rho <= 1:
            raise ValueError(f"Adadelta: invalid rho {rho!r}; it must be in [0, 1]")
        super().__init__(params, dict(lr=lr, rho=rho, eps=eps, weight_decay=weight_decay,
                                      maximize=maximize))

    def _update(self, p, data, grad, group, state):
        rho, eps = group["rho"], group["eps"]
        if not state:
            state["step"] = 0
            state["square_avg"] = np.zeros_like(data)
            state["acc_delta"] = np.zeros_like(data)
        state["step"] += 1
        if group["weight_decay"] != 0:
            grad = grad + group["weight_decay"] * data
        v, u = state["square_avg"], state["acc_delta"]
        v *= rho
        v += (1 - rho) * grad * grad
        delta = np.sqrt(u + eps) / np.sqrt(v + eps) * grad
        u *= rho
        u += (1 - rho) * delta * delta
        data -= group["lr"] * delta
