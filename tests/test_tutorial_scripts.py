"""Three scripts written as PyTorch's tutorials write them, run with only the imports changed.

``import tinygrad_edu as torch``, ``from tinygrad_edu import nn``, ... and nothing else:
the quickstart (DataLoader, an nn.Module, train/test loops, save and load of the state dict,
``classes[pred[0].argmax(0)]``), a regression with a validation split, StepLR,
ReduceLROnPlateau and ``clip_grad_norm_``, and "Learning PyTorch with Examples" (weights by
hand under ``torch.no_grad()``, ``a -= lr * a.grad``; then ``param -= lr * param.grad``).
Where a result can be derived independently (the hand-written descent), it is replayed in
numpy with gradients worked out by hand.
"""

import numpy as np
import pytest

import tinygrad_edu as tg

QUICKSTART = r'''
import tinygrad_edu as torch
from tinygrad_edu import nn
from tinygrad_edu.utils.data import DataLoader, TensorDataset

# the tutorial downloads FashionMNIST; here: 8x8 "images" whose class is the sign of their sum
torch.manual_seed(0)
images = torch.randn(320, 1, 8, 8)
labels = (images.sum(dim=(1, 2, 3)) > 0).long()
training_data = TensorDataset(images[:256], labels[:256])
test_data = TensorDataset(images[256:], labels[256:])

batch_size = 64
train_dataloader = DataLoader(training_data, batch_size=batch_size, shuffle=True)
test_dataloader = DataLoader(test_data, batch_size=batch_size)

for X, y in test_dataloader:
    print(f"Shape of X [N, C, H, W]: {X.shape}")
    print(f"Shape of y: {y.shape} {y.dtype}")
    break

device = torch.accelerator.current_accelerator().type if torch.accelerator.is_available() else "cpu"
print(f"Using {device} device")


class NeuralNetwork(nn.Module):
    def __init__(self):
        super().__init__()
        self.flatten = nn.Flatten()
        self.linear_relu_stack = nn.Sequential(
            nn.Linear(8 * 8, 32),
            nn.ReLU(),
            nn.Linear(32, 32),
            nn.ReLU(),
            nn.Linear(32, 2),
        )

    def forward(self, x):
        x = self.flatten(x)
        logits = self.linear_relu_stack(x)
        return logits


model = NeuralNetwork().to(device)
print(model)

loss_fn = nn.CrossEntropyLoss()
optimizer = torch.optim.SGD(model.parameters(), lr=1e-1)


def train(dataloader, model, loss_fn, optimizer):
    size = len(dataloader.dataset)
    model.train()
    for batch, (X, y) in enumerate(dataloader):
        X, y = X.to(device), y.to(device)
        pred = model(X)
        loss = loss_fn(pred, y)
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()
        if batch % 100 == 0:
            loss, current = loss.item(), (batch + 1) * len(X)
            print(f"loss: {loss:>7f}  [{current:>5d}/{size:>5d}]")


def test(dataloader, model, loss_fn):
    size = len(dataloader.dataset)
    num_batches = len(dataloader)
    model.eval()
    test_loss, correct = 0, 0
    with torch.no_grad():
        for X, y in dataloader:
            X, y = X.to(device), y.to(device)
            pred = model(X)
            test_loss += loss_fn(pred, y).item()
            correct += (pred.argmax(1) == y).type(torch.float).sum().item()
    test_loss /= num_batches
    correct /= size
    print(f"Test Error: \n Accuracy: {(100*correct):>0.1f}%, Avg loss: {test_loss:>8f} \n")
    return correct


epochs = 5
for t in range(epochs):
    print(f"Epoch {t+1}\n-------------------------------")
    train(train_dataloader, model, loss_fn, optimizer)
    accuracy = test(test_dataloader, model, loss_fn)
print("Done!")

torch.save(model.state_dict(), "model.pth")
print("Saved PyTorch Model State to model.pth")

model = NeuralNetwork().to(device)
model.load_state_dict(torch.load("model.pth", weights_only=True))

classes = ["negative", "positive"]
model.eval()
x, y = test_data[0][0], test_data[0][1]
with torch.no_grad():
    x = x.to(device)
    pred = model(x)
    predicted, actual = classes[pred[0].argmax(0)], classes[y]
    print(f'Predicted: "{predicted}", Actual: "{actual}"')
'''

REGRESSION = r'''
import math

import tinygrad_edu as torch
import tinygrad_edu.nn as nn
import tinygrad_edu.optim as optim
from tinygrad_edu.optim.lr_scheduler import ReduceLROnPlateau, StepLR
from tinygrad_edu.utils.data import DataLoader, TensorDataset, random_split

torch.manual_seed(42)
device = torch.device("cuda" if torch.cuda.is_available() else "cpu")

x = torch.linspace(-math.pi, math.pi, 256).unsqueeze(1)
y = torch.sin(x) + 0.05 * torch.randn(x.size())
dataset = TensorDataset(x, y)
train_set, val_set = random_split(dataset, [192, 64], generator=torch.Generator().manual_seed(0))
train_loader = DataLoader(train_set, batch_size=32, shuffle=True)
val_loader = DataLoader(val_set, batch_size=64)


class Regressor(nn.Module):
    def __init__(self, hidden=32):
        super(Regressor, self).__init__()
        self.net = nn.Sequential(nn.Linear(1, hidden), nn.Tanh(), nn.Linear(hidden, 1))

    def forward(self, x):
        return self.net(x)


model = Regressor().to(device)
criterion = nn.MSELoss()
optimizer = optim.Adam(model.parameters(), lr=0.02, weight_decay=1e-5)
scheduler = StepLR(optimizer, step_size=20, gamma=0.5)
plateau = ReduceLROnPlateau(optimizer, mode="min", factor=0.5, patience=3)

history = []
for epoch in range(60):
    model.train()
    running = 0.0
    for inputs, targets in train_loader:
        inputs, targets = inputs.to(device), targets.to(device)
        optimizer.zero_grad()
        outputs = model(inputs)
        loss = criterion(outputs, targets)
        loss.backward()
        total_norm = nn.utils.clip_grad_norm_(model.parameters(), max_norm=1.0)
        optimizer.step()
        running += loss.item() * inputs.size(0)
    scheduler.step()
    model.eval()
    with torch.no_grad():
        val_loss = sum(criterion(model(xb), yb).item() for xb, yb in val_loader)
    plateau.step(val_loss)
    history.append(val_loss)
    if (epoch + 1) % 20 == 0:
        print(f"Epoch [{epoch + 1}/60], train {running / len(train_set):.4f}, "
              f"val {val_loss:.4f}, lr {optimizer.param_groups[0]['lr']:.5f}, "
              f"grad norm {total_norm:.3f}")

with torch.no_grad():
    predicted = model(torch.tensor([[0.5]]))
print(f"sin(0.5) = {math.sin(0.5):.3f}, predicted {predicted.item():.3f}")
'''

MANUAL = r'''
# "Learning PyTorch with Examples": a third-order polynomial fitted to sin(x), by hand
import math

import tinygrad_edu as torch

dtype = torch.float
device = torch.device("cpu")

x = torch.linspace(-math.pi, math.pi, 2000, device=device, dtype=dtype)
y = torch.sin(x)

torch.manual_seed(0)
a = torch.randn((), device=device, dtype=dtype, requires_grad=True)
b = torch.randn((), device=device, dtype=dtype, requires_grad=True)
c = torch.randn((), device=device, dtype=dtype, requires_grad=True)
d = torch.randn((), device=device, dtype=dtype, requires_grad=True)
start = [a.item(), b.item(), c.item(), d.item()]

learning_rate = 1e-6
for t in range(500):
    y_pred = a + b * x + c * x ** 2 + d * x ** 3
    loss = (y_pred - y).pow(2).sum()
    if t % 100 == 99:
        print(t, loss.item())
    loss.backward()
    with torch.no_grad():
        a -= learning_rate * a.grad
        b -= learning_rate * b.grad
        c -= learning_rate * c.grad
        d -= learning_rate * d.grad
        a.grad = None
        b.grad = None
        c.grad = None
        d.grad = None
print(f"Result: y = {a.item()} + {b.item()} x + {c.item()} x^2 + {d.item()} x^3")

# the same with nn, updating the parameters by hand
p = torch.tensor([1, 2, 3])
xx = x.unsqueeze(-1).pow(p)
model = torch.nn.Sequential(torch.nn.Linear(3, 1), torch.nn.Flatten(0, 1))
loss_fn = torch.nn.MSELoss(reduction="sum")
for t in range(500):
    y_pred = model(xx)
    loss = loss_fn(y_pred, y)
    model.zero_grad()
    loss.backward()
    with torch.no_grad():
        for param in model.parameters():
            param -= learning_rate * param.grad
linear_layer = model[0]
print(f"Result: y = {linear_layer.bias.item()} + {linear_layer.weight[:, 0].item()} x + "
      f"{linear_layer.weight[:, 1].item()} x^2 + {linear_layer.weight[:, 2].item()} x^3")
'''


def run(source, name, tmp_path, monkeypatch):
    """Run a script as ``python name`` would, in ``tmp_path``; returns its globals."""
    monkeypatch.chdir(tmp_path)
    namespace = {"__name__": "__main__"}
    exec(compile(source, name, "exec"), namespace)
    return namespace


def test_the_quickstart_trains_saves_and_loads(tmp_path, monkeypatch, capsys):
    names = run(QUICKSTART, "quickstart.py", tmp_path, monkeypatch)
    out = capsys.readouterr().out
    assert "Shape of y: (64,) int64" in out            # PyTorch: torch.Size([64]) torch.int64
    assert names["device"] == "cpu" and out.count("Test Error") == 5
    assert names["accuracy"] > 0.55                    # chance is 0.5
    saved = tg.load(tmp_path / "model.pth", weights_only=True)
    for key, tensor in names["model"].state_dict().items():
        assert saved[key].numpy().tobytes() == tensor.numpy().tobytes()
    assert names["predicted"] in ("negative", "positive")


def test_a_regression_with_schedulers_and_gradient_clipping(tmp_path, monkeypatch):
    names = run(REGRESSION, "regression.py", tmp_path, monkeypatch)
    # the targets are sin(x) plus noise of variance 0.0025: a fit gets near that
    assert names["history"][-1] < 0.02 < names["history"][0]
    assert abs(names["predicted"].item() - np.sin(0.5)) < 0.1
    lr = names["optimizer"].param_groups[0]["lr"]
    halvings = np.log2(0.02 / lr)                      # StepLR and the plateau both halve
    assert halvings >= 3 and abs(halvings - round(halvings)) < 1e-9
    assert np.isfinite(float(names["total_norm"]))


def test_learning_pytorch_with_examples_matches_a_descent_replayed_in_numpy(
        tmp_path, monkeypatch):
    names = run(MANUAL, "manual.py", tmp_path, monkeypatch)
    x = np.linspace(-np.pi, np.pi, 2000)
    y = np.sin(x)
    a, b, c, d = names["start"]
    for _ in range(500):
        # loss = sum (a + b x + c x^2 + d x^3 - y)^2 ; dloss/da = 2 sum(r), dloss/db = 2 sum(r x)
        r = a + b * x + c * x ** 2 + d * x ** 3 - y
        a, b, c, d = (a - 1e-6 * 2 * r.sum(), b - 1e-6 * 2 * (r * x).sum(),
                      c - 1e-6 * 2 * (r * x ** 2).sum(), d - 1e-6 * 2 * (r * x ** 3).sum())
    got = [names[k].item() for k in "abcd"]
    np.testing.assert_allclose(got, [a, b, c, d], rtol=2e-3, atol=2e-4)
    # the nn version: its Linear drew its initial weights right after the four randn
    tg.manual_seed(0)
    for _ in range(4):
        tg.randn(())
    initial = tg.nn.Linear(3, 1)
    w, bias = initial.weight.numpy().astype(np.float64)[0], float(initial.bias.item())
    xx = x[:, None] ** np.array([1, 2, 3])
    for _ in range(500):
        r = xx @ w + bias - y                  # MSELoss(reduction="sum"): gradient 2 r
        w, bias = w - 1e-6 * 2 * (xx.T @ r), bias - 1e-6 * 2 * r.sum()
    layer = names["linear_layer"]
    np.testing.assert_allclose(layer.weight.numpy()[0], w, rtol=2e-3, atol=2e-4)
    assert layer.bias.item() == pytest.approx(bias, rel=2e-3, abs=2e-4)


@pytest.mark.parametrize("name", ["QUICKSTART", "REGRESSION", "MANUAL"])
def test_the_scripts_are_real_pytorch_scripts(name, tmp_path, monkeypatch):
    # a second opinion: with PyTorch installed, the same text with torch's imports runs too
    pytest.importorskip("torch")
    source = globals()[name].replace("tinygrad_edu", "torch")
    run(source, f"{name.lower()}.py", tmp_path, monkeypatch)
