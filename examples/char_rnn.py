"""A character-level LSTM learns Shakespeare's Sonnet 18 by heart, one letter at a time.

Embedding -> LSTM -> Linear, trained to predict each next character of the sonnet
(``examples/data/sonnet_18.txt``, 621 characters, 1609, public domain) with truncated
backpropagation through time: the text is read in windows of 32 characters, and the LSTM's
state is carried from each window into the next, so the model can use context from before
the window it is learning on.

The classic failures this avoids:

- carrying the hidden state into the next window *without detaching it*. Then every
  ``backward()`` runs back through all earlier windows too: it fails (their graphs were
  released by the earlier backward calls; PyTorch says "Trying to backward through the graph
  a second time"), or with ``retain_graph=True`` every step gets slower and memory grows.
  ``state = tuple(s.detach() for s in state)`` keeps the values and cuts the graph, so
  gradients flow back through 32 steps and no further;
- exploding gradients through time: the gradient is multiplied by the recurrent weights at
  every step back and can grow without bound, throwing the weights far off in one update.
  ``nn.utils.clip_grad_norm_(model.parameters(), 1.0)``, between ``backward()`` and
  ``step()``, scales it back to norm 1 whenever it is larger.

Every 10 epochs it prints what the model writes after the first line. Target: given only the
first line, greedy decoding recites the other 13 lines exactly (581 characters), and read
through the sonnet once it predicts every next character right. About 15 s.

Run: python examples/char_rnn.py [--epochs N]
"""

import argparse
import pathlib
import time

import numpy as np

import nn
import tinygrad_edu as tg
from nn.optim import Adam
from nn.optim.lr_scheduler import CosineAnnealingLR
from tinygrad_edu import Tensor

TEXT = (pathlib.Path(__file__).resolve().parent / "data" / "sonnet_18.txt").read_text()
PROMPT = TEXT[:TEXT.index("\n") + 1]          # the first line: "Shall I compare thee ..."


class CharLSTM(nn.Module):
    """Character ids (L, N) -> next-character logits (L, N, vocab), and the LSTM's state."""

    def __init__(self, vocab_size, embed_size=16, hidden_size=128):
        super().__init__()
        self.embed = nn.Embedding(vocab_size, embed_size)
        self.lstm = nn.LSTM(embed_size, hidden_size)
        self.head = nn.Linear(hidden_size, vocab_size)

    def forward(self, ids, state=None):
        out, state = self.lstm(self.embed(ids), state)    # out: (L, N, hidden)
        return self.head(out), state


def windows(ids, length):
    """(inputs, targets) pairs of shape (length, 1), in reading order; a target is the
    character after its input."""
    for start in range(0, len(ids) - 1, length):
        inputs = ids[start:start + length]
        targets = ids[start + 1:start + length + 1]
        inputs = inputs[:len(targets)]                     # the last window may be shorter
        yield inputs.reshape(-1, 1), targets.reshape(-1, 1)


def recite(model, prompt, n_chars, char_to_id, id_to_char):
    """Feed ``prompt`` from a zero state, then let the model write ``n_chars`` more, always
    taking the likeliest next character."""
    model.eval()
    with tg.no_grad():
        ids = np.array([char_to_id[c] for c in prompt]).reshape(-1, 1)   # (L, N=1)
        logits, state = model(Tensor(ids))
        written = []
        for _ in range(n_chars):
            next_id = int(logits[-1, 0].argmax().item())
            written.append(id_to_char[next_id])
            logits, state = model(Tensor(np.array([[next_id]])), state)
    model.train()
    return "".join(written)


def evaluate(model, ids):
    """Loss per character (nats) and next-character accuracy, reading the text once."""
    model.eval()
    with tg.no_grad():
        logits, _ = model(Tensor(ids[:-1].reshape(-1, 1)))
        logits = logits.reshape(len(ids) - 1, -1)
        loss = nn.CrossEntropyLoss()(logits, Tensor(ids[1:])).item()
        accuracy = float((logits.argmax(axis=1).numpy() == ids[1:]).mean())
    model.train()
    return loss, accuracy


def train(epochs=40, length=32, lr=1e-2, seed=0, verbose=True):
    """Learn the sonnet; returns (model, loss per char, accuracy, recitation after line 1)."""
    tg.manual_seed(seed)
    chars = sorted(set(TEXT))
    char_to_id = {c: i for i, c in enumerate(chars)}
    ids = np.array([char_to_id[c] for c in TEXT], dtype=np.int64)
    model = CharLSTM(len(chars))
    loss_fn = nn.CrossEntropyLoss()
    optimizer = Adam(model.parameters(), lr=lr)
    schedule = CosineAnnealingLR(optimizer, T_max=epochs)   # large steps first, then settle
    for epoch in range(1, epochs + 1):
        state = None                           # every pass starts from a zero state
        total = 0.0
        for inputs, targets in windows(ids, length):
            logits, state = model(Tensor(inputs), state)
            state = tuple(s.detach() for s in state)      # keep the values, cut the graph
            loss = loss_fn(logits.reshape(-1, len(chars)), Tensor(targets.reshape(-1)))
            optimizer.zero_grad()
            loss.backward()
            nn.utils.clip_grad_norm_(model.parameters(), max_norm=1.0)
            optimizer.step()
            total += loss.item() * len(targets)
        schedule.step()
        if verbose and (epoch == 1 or epoch % 10 == 0):
            sample = recite(model, PROMPT, 45, char_to_id, chars)
            print(f"epoch {epoch:3d}  loss per char {total / (len(ids) - 1):.3f}  | {sample!r}")
    loss, accuracy = evaluate(model, ids)
    recited = recite(model, PROMPT, len(TEXT) - len(PROMPT), char_to_id, chars)
    return model, loss, accuracy, recited


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=40)
    args = parser.parse_args()
    start = time.perf_counter()
    _, loss, accuracy, recited = train(epochs=args.epochs)
    rest = TEXT[len(PROMPT):]
    right = next((i for i, (a, b) in enumerate(zip(recited, rest)) if a != b), len(rest))
    print(f"\n{PROMPT}{recited}")
    print(f"final: recited {right} of {len(rest)} characters after the first line, "
          f"next-char accuracy {accuracy:.3f}, loss per char {loss:.3f} nats, "
          f"{time.perf_counter() - start:.1f} s")


if __name__ == "__main__":
    main()
