"""Safetensors interoperability with the reference implementation (pip install safetensors numpy).

  python3 scripts/safetensors_interop.py make          # writes the fixture Fathom's tests read
  python3 scripts/safetensors_interop.py verify FILE   # checks a file Fathom wrote (see SafetensorsTests)

The fixture holds tensors of every dtype Fathom reads; `verify` expects the tensors that
SafetensorsTests.testWrittenFileIsReadableByPython writes.
"""
import os
import sys

import numpy as np
from safetensors.numpy import load_file, save_file

FIXTURE = os.path.join(os.path.dirname(__file__), "..", "Tests", "FathomTensorTests", "Fixtures", "python_written.safetensors")


def reference_tensors():
    return {
        "weight": np.arange(12, dtype=np.float32).reshape(3, 4) / 8.0,
        "bias": np.array([-1.5, 0.0, 2.25], dtype=np.float64),
        "index": np.array([[0, -3], [7, 9]], dtype=np.int64),
        "mask": np.array([True, False, True]),
        "scalar": np.array(3.5, dtype=np.float32),
        "empty": np.zeros((0, 2), dtype=np.float32),
    }


def main():
    if sys.argv[1] == "make":
        save_file(reference_tensors(), FIXTURE, metadata={"format": "np", "producer": "safetensors"})
        print("wrote", os.path.relpath(FIXTURE))
    elif sys.argv[1] == "verify":
        loaded = load_file(sys.argv[2])
        expected = {
            "layer.weight": np.arange(6, dtype=np.float32).reshape(2, 3) - 2.5,
            "layer.steps": np.array([1, 2, 3], dtype=np.int64),
            "double": np.array([[0.125]], dtype=np.float64),
        }
        assert set(loaded) == set(expected), f"keys {sorted(loaded)}"
        for key, value in expected.items():
            assert loaded[key].dtype == value.dtype and loaded[key].shape == value.shape, key
            assert np.array_equal(loaded[key], value), key
        print("ok: safetensors read Fathom's file")


if __name__ == "__main__":
    main()
