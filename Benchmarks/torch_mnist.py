"""PyTorch side of the end-to-end benchmark: what `fathom train --model mlp|lenet5 --dataset
mnist --epochs 1` does, in PyTorch: load MNIST from the gzip IDX files (gzip + numpy),
normalize (mean 0.1307, std 0.3081), train one epoch with SGD (lr 0.05, momentum 0.9,
cosine schedule per step, as Fathom's recipe), batch 128 (mlp) or 64 (lenet5), shuffled,
then evaluate on the test set. Prints one JSON object.

Run: Benchmarks/.venv/bin/python Benchmarks/torch_mnist.py --model mlp --data-dir ../shared/data/mnist
"""
import argparse
import gzip
import json
import math
import os
import sys
import time

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from torch_core import LeNet5, mlp  # noqa: E402  (the same architectures as the step benchmarks)


def read_idx(path):
    with gzip.open(path, "rb") as f:
        data = f.read()
    dims = data[3]
    shape = [int.from_bytes(data[4 + 4 * i: 8 + 4 * i], "big") for i in range(dims)]
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * dims).reshape(shape)


def load(directory, split):
    prefix = "train" if split == "train" else "t10k"
    images = read_idx(os.path.join(directory, f"{prefix}-images-idx3-ubyte.gz"))
    labels = read_idx(os.path.join(directory, f"{prefix}-labels-idx1-ubyte.gz"))
    x = torch.from_numpy(images.astype(np.float32) / 255.0).unsqueeze(1)
    return (x - 0.1307) / 0.3081, torch.from_numpy(labels.astype(np.int64))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", choices=["mlp", "lenet5"], default="mlp")
    parser.add_argument("--data-dir", default="../shared/data/mnist")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    started = time.perf_counter()
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    train_x, train_y = load(args.data_dir, "train")
    test_x, test_y = load(args.data_dir, "test")
    model = mlp([784, 512, 512, 10]) if args.model == "mlp" else LeNet5()
    batch = 128 if args.model == "mlp" else 64
    steps = math.ceil(len(train_x) / batch)
    opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=steps)
    order = torch.randperm(len(train_x), generator=torch.Generator().manual_seed(args.seed))
    train_started = time.perf_counter()
    model.train()
    loss_sum, correct = 0.0, 0
    for s in range(steps):
        idx = order[s * batch:(s + 1) * batch]
        x, y = train_x[idx], train_y[idx]
        logits = model(x)
        loss = torch.nn.functional.cross_entropy(logits, y)
        loss.backward()
        opt.step()
        opt.zero_grad()
        schedule.step()
        loss_sum += loss.item() * len(idx)
        correct += int((logits.argmax(1) == y).sum())
    train_seconds = time.perf_counter() - train_started
    model.eval()
    test_correct = 0
    with torch.no_grad():
        for i in range(0, len(test_x), 1000):
            test_correct += int((model(test_x[i:i + 1000]).argmax(1) == test_y[i:i + 1000]).sum())
    print(json.dumps({"model": args.model, "train_loss": loss_sum / len(train_x), "train_accuracy": correct / len(train_x),
                      "test_accuracy": test_correct / len(test_x), "train_seconds": round(train_seconds, 3),
                      "seconds_in_process": round(time.perf_counter() - started, 3), "threads": torch.get_num_threads()}))


if __name__ == "__main__":
    main()
