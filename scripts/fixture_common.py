"""Shared helpers for the fixture generators: every generator writes one JSON file of
named cases under Tests/FathomTensorTests/Fixtures/, read by Tests/.../Fixtures.swift.

Tensors are stored as {"shape", "dtype", "data"} with data flattened in row-major order;
non-finite numbers are written as the strings "nan", "inf", "-inf" (JSON has no NaN).
"""
import json
import os

import numpy as np

FIXTURE_DIR = os.path.join(os.path.dirname(__file__), "..", "Tests", "FathomTensorTests", "Fixtures")


def tensor(array):
    a = np.asarray(array)
    if a.dtype == np.bool_:
        dtype, values = "bool", [1.0 if v else 0.0 for v in a.reshape(-1)]
    elif np.issubdtype(a.dtype, np.integer):
        dtype, values = "int64", [float(v) for v in a.reshape(-1)]
    else:
        dtype = "float32" if a.dtype == np.float32 else "float64"
        values = [float(v) for v in a.reshape(-1)]

    def encode(v):
        if np.isnan(v):
            return "nan"
        if np.isinf(v):
            return "inf" if v > 0 else "-inf"
        return v

    return {"shape": list(a.shape), "dtype": dtype, "data": [encode(v) for v in values]}


def write(name, cases):
    """cases: dict case-name -> {"inputs": [arrays], "output": array, "params": {...}}"""
    os.makedirs(FIXTURE_DIR, exist_ok=True)
    out = {}
    for key, case in cases.items():
        out[key] = {
            "inputs": [tensor(x) for x in case.get("inputs", [])],
            "output": tensor(case["output"]),
            "params": case.get("params", {}),
        }
    path = os.path.join(FIXTURE_DIR, name + ".json")
    with open(path, "w") as f:
        json.dump(out, f, indent=None, separators=(",", ":"), sort_keys=True)
        f.write("\n")
    print(f"wrote {len(out)} cases to {os.path.relpath(path)}")
