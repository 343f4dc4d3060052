"""A plain PyTorch MLP script runs with only its imports changed."""

import numpy as np

# The script below is written exactly as a PyTorch user would; only these imports differ.
import tinygrad_edu as torch
import tinygrad_edu.nn as nn
import tinygrad_edu.nn.functional as F
import tinygrad_edu.optim as optim


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(10, 32)
        self.fc2 = nn.Linear(32, 2)

    def forward(self, x):
        return self.fc2(F.relu(self.fc1(x)))


def test_pytorch_mlp_script_runs_unchanged():
    torch.manual_seed(0)
    X = torch.randn(256, 10)
    y = (X[:, 0] + X[:, 1] > 0).long()
    model = Net()
    criterion = nn.CrossEntropyLoss()
    optimizer = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    losses = []
    for epoch in range(150):
        optimizer.zero_grad()
        outputs = model(X)
        loss = criterion(outputs, y)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    with torch.no_grad():
        outputs = model(X)
        _, predicted = torch.max(outputs.data, 1)
        correct = (predicted == y).sum().item()
    assert correct / y.size(0) > 0.95
    assert losses[-1] < 0.5 * losses[0]
    model.zero_grad()
    assert all(p.grad is None for p in model.parameters())
    assert isinstance(X.numpy(), np.ndarray)


def test_module_aliases_are_the_same_objects():
    import nn as top_nn
    import nn.optim as top_optim
    assert nn is top_nn
    assert optim is top_optim
    assert F is top_nn.functional
    assert torch.nn is top_nn and torch.optim is top_optim
    assert nn.Linear is top_nn.Linear
