"""A complete PyTorch-style training script runs with only ``import tinygrad_edu as torch``.

Device boilerplate, a DataLoader over a TensorDataset split with random_split, a scheduler,
gradient clipping, a manual in-place update under no_grad, and a checkpoint (model,
optimizer, scheduler, random state) saved with torch.save and loaded with torch.load: the
resumed run must end bit for bit where the uninterrupted one does.
"""

import subprocess
import sys
import textwrap

SCRIPT = textwrap.dedent('''
    import numpy as np
    import tinygrad_edu as torch
    import tinygrad_edu.nn as nn
    import tinygrad_edu.nn.functional as F
    from tinygrad_edu.optim.lr_scheduler import StepLR
    from tinygrad_edu.utils.data import DataLoader, TensorDataset, random_split

    torch.manual_seed(0)
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")

    X = torch.randn(200, 4)
    w_true = torch.tensor([[1.0], [-2.0], [0.5], [3.0]])
    y = ((X @ w_true).squeeze(1) > 0).long()
    dataset = TensorDataset(X, y)
    train_set, val_set = random_split(dataset, [160, 40],
                                      generator=torch.Generator().manual_seed(1))
    train_loader = DataLoader(train_set, batch_size=32, shuffle=True)
    val_loader = DataLoader(val_set, batch_size=40)


    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc1 = nn.Linear(4, 16)
            self.fc2 = nn.Linear(16, 2)

        def forward(self, x):
            return self.fc2(F.relu(self.fc1(x)))


    def make():
        model = Net().to(device)
        optimizer = torch.optim.Adam(model.parameters(), lr=0.01)
        scheduler = StepLR(optimizer, step_size=2, gamma=0.5)
        return model, optimizer, scheduler


    def train_epoch(model, optimizer, scheduler):
        model.train()
        for xb, yb in train_loader:
            xb, yb = xb.to(device), yb.to(device)
            optimizer.zero_grad()
            loss = F.cross_entropy(model(xb), yb)
            loss.backward()
            nn.utils.clip_grad_norm_(model.parameters(), max_norm=5.0)
            optimizer.step()
        scheduler.step()
        # one more step by hand, as in a from-scratch tutorial
        model.zero_grad()
        F.cross_entropy(model(xb), yb).backward()
        with torch.no_grad():
            for p in model.parameters():
                p -= 0.001 * p.grad


    def accuracy(model):
        model.eval()
        correct = 0
        with torch.no_grad():
            for xb, yb in val_loader:
                correct += (model(xb).argmax(dim=1) == yb).sum().item()
        return correct / len(val_set)


    model, optimizer, scheduler = make()
    for epoch in range(3):
        train_epoch(model, optimizer, scheduler)
    torch.save({"epoch": 3, "model": model.state_dict(), "optimizer": optimizer.state_dict(),
                "scheduler": scheduler.state_dict(), "rng": torch.get_rng_state()},
               "checkpoint.pt")
    for epoch in range(3, 6):
        train_epoch(model, optimizer, scheduler)
    straight = {k: v.clone() for k, v in model.state_dict().items()}

    resumed, optimizer2, scheduler2 = make()   # different initial weights
    checkpoint = torch.load("checkpoint.pt", map_location=device, weights_only=True)
    resumed.load_state_dict(checkpoint["model"])
    optimizer2.load_state_dict(checkpoint["optimizer"])
    scheduler2.load_state_dict(checkpoint["scheduler"])
    torch.set_rng_state(checkpoint["rng"])    # the shuffling continues as it would have
    for epoch in range(checkpoint["epoch"], 6):
        train_epoch(resumed, optimizer2, scheduler2)

    for name, value in resumed.state_dict().items():
        assert value.dtype == straight[name].dtype
        assert np.array_equal(value, straight[name]), name
    assert scheduler2.get_last_lr() == scheduler.get_last_lr() == [0.01 * 0.5 ** 3]
    print("accuracy", accuracy(resumed))
''')


def test_a_pytorch_style_script_trains_checkpoints_and_resumes_identically(tmp_path):
    (tmp_path / "train.py").write_text(SCRIPT)
    result = subprocess.run([sys.executable, "train.py"], cwd=tmp_path, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    accuracy = float(result.stdout.split()[-1])
    assert accuracy >= 0.85, result.stdout
