"""Representations: what turns a displayed image into the vector the light heads learn from.

Every representation takes the displayed 8-bit image, exactly what the expert sees: uint8
(H, W) grey or (H, W, 3) RGB ((H, W, 4) drops alpha; grey is replicated to 3 channels for RGB
models). Work is split in two so that `embed.embed_items` can overlap decoding with the model:

- `prepare(image)`: resize and convert one image to a fixed-shape uint8 array. Pillow and numpy
  only, thread-safe, run in a thread pool (Pillow releases the GIL while resizing);
- `embed_prepared(batch)`: (B, ...) stacked prepared arrays → (B, dim) float32; runs the model.

`embed(images)` does both. `id` names the model *and* the preprocessing, so an embedding cache
keyed by it is invalidated when either changes.

Image fitting (`fit`), default "crop": resize the shorter side to `image_size` and cut the
centre square (one Pillow call: the centre box of the source is resized straight to the
output; antialiased, see `RESAMPLE`). That is the standard ImageNet evaluation view, so the
pretrained features see objects with their true aspect ratio at the scale they were trained
on; on 4:3 camera frames it drops 1/8 of the width at each side. "pad" keeps the whole image
(letterbox, mid-grey = 0 after normalisation) at a lower resolution, for data whose findings sit
at the borders; "squash" stretches to a square. On the sample photos "crop" gave the most
confident, correct classes.
"""

from __future__ import annotations

import hashlib
import logging
import os
import threading
import warnings
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from pathlib import Path
from typing import Protocol, runtime_checkable

import numpy as np
import torch
from PIL import Image

from aldesk.core.errors import InputError, UsageError
from aldesk.ml.efficientnet import (
    EMBEDDING_DIM,
    frozen_features,
    fuse_batchnorm,
    load_efficientnet_lite0,
)
from aldesk.ml.ids import COMBINED, parts, representation_id

log = logging.getLogger(__name__)

FITS = ("crop", "pad", "squash")
#: Images per model call (per thread) on CPU: EfficientNet's expanded activations of a small
#: call stay in cache. Measured, one thread, images/s by images per call: 1: 53, 2: 58, 3-4: 39,
#: 8: 30. Small calls also keep cancellation prompt.
CPU_CHUNK = 2
GPU_CHUNK = 128
#: How often a wait for the model threads looks at the cancel check, in seconds.
POLL_S = 0.05


class RepresentationError(InputError, ValueError):
    """A representation that cannot be built or used (bad model file, unknown name)."""


@runtime_checkable
class Representation(Protocol):
    #: Names the model and its preprocessing, e.g. "efficientnet_lite0/224/v3", "pixels/32/v2".
    id: str
    #: Length of one embedding vector.
    dim: int
    #: `prepare` shrinks every image to about this side: a loader may hand it an image decoded
    #: at a reduced scale as long as both sides stay at least this (`io.render`'s
    #: `reduce_to`).
    source_side: int

    def prepare(self, image: np.ndarray) -> np.ndarray:
        """One displayed uint8 image → a fixed-shape uint8 array; thread-safe, no torch."""
        ...

    def embed_prepared(self, batch: np.ndarray, check: Callable[[], None] | None = None
                       ) -> np.ndarray:
        """(B, ...) stacked `prepare` outputs → (B, dim) float32.

        `check` (e.g. `job.check`) is called between model calls and may raise to abandon the
        batch; a long batch is thus cancellable within one model call (a few images).
        """
        ...

    def embed(self, images: list[np.ndarray]) -> np.ndarray:
        """Displayed uint8 images (any sizes) → (B, dim) float32."""
        ...


def usable_cores() -> int:
    """CPU cores this process may run on (affinity-aware)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


def set_torch_threads(n: int | None = None) -> int:
    """Sets torch's intra-op threads to `n` (default: the usable core count); returns it."""
    n = usable_cores() if n is None else max(1, int(n))
    if torch.get_num_threads() != n:
        torch.set_num_threads(n)
    return n


def pick_device(preferred: str | None = None) -> str:
    """"cuda" if available, else "mps" if available, else "cpu"; an explicit choice is honoured.

    An explicit device that this machine does not have is a `RepresentationError` (one line)
    rather than a silent fall-back or a torch traceback later.
    """
    if preferred:
        try:
            dev = torch.device(preferred)
        except (RuntimeError, ValueError):
            raise RepresentationError(f"unknown device {preferred!r}; use cpu, cuda or mps") \
                from None
        if dev.type == "cuda" and not torch.cuda.is_available():
            raise RepresentationError("device 'cuda' was asked for but CUDA is not available")
        if dev.type == "mps" and not _mps_available():
            raise RepresentationError("device 'mps' was asked for but MPS is not available")
        return str(dev)
    if torch.cuda.is_available():
        return "cuda"
    if _mps_available():
        return "mps"
    return "cpu"


def _mps_available() -> bool:
    mps = getattr(torch.backends, "mps", None)
    return bool(mps is not None and mps.is_available())


# -- images -------------------------------------------------------------------------------------

def to_pil(image: np.ndarray) -> Image.Image:
    """A displayed uint8 image as a Pillow image (mode L or RGB); ValueError otherwise."""
    if not isinstance(image, np.ndarray):
        raise ValueError(f"expected a numpy image, got {type(image).__name__}")
    if image.dtype != np.uint8:
        raise ValueError(f"expected a uint8 display image, got dtype {image.dtype}")
    if image.ndim == 3 and image.shape[2] in (1, 3, 4):
        image = image[:, :, 0] if image.shape[2] == 1 else image[:, :, :3]
    if image.ndim not in (2, 3) or image.shape[0] == 0 or image.shape[1] == 0:
        raise ValueError(f"expected an (H, W) or (H, W, 3) image, got shape {image.shape}")
    return Image.fromarray(np.ascontiguousarray(image))


#: Antialiased (triangle-filter) resizing; an image is first box-reduced by the largest integer
#: factor that keeps it at least as large as the target (Pillow's `reducing_gap` 1.0), then
#: resized the rest of the way. Measured per image (benchmarks/bench_embed.py frames, one
#: core): 640x480 RGB → 224: 1.2 ms against 2.0 ms with `reducing_gap` 2.0, whose embeddings
#: it matches to cosine >= 0.99 (mean 0.997); 512x512 CT → 224: 0.6 ms against 1.2 ms.
#: Preprocessing is part of a representation's id (`ml.ids.VERSIONS`): changing it re-embeds.
RESAMPLE = Image.Resampling.BILINEAR
REDUCING_GAP = 1.0


def fit_image(im: Image.Image, size: int, fit: str = "crop") -> Image.Image:
    """Resizes to size x size by `fit` ("crop", "pad", "squash"; see the module docstring)."""
    w, h = im.size
    if fit == "squash":
        return im.resize((size, size), RESAMPLE, reducing_gap=REDUCING_GAP)
    if fit == "crop":
        side = min(w, h)
        left, top = (w - side) // 2, (h - side) // 2
        return im.resize((size, size), RESAMPLE, box=(left, top, left + side, top + side),
                         reducing_gap=REDUCING_GAP)
    if fit == "pad":
        scale = size / max(w, h)
        nw, nh = max(1, round(w * scale)), max(1, round(h * scale))
        inner = im.resize((nw, nh), RESAMPLE, reducing_gap=REDUCING_GAP)
        fill: int | tuple[int, int, int] = 128 if im.mode == "L" else (128, 128, 128)
        out = Image.new(im.mode, (size, size), fill)
        out.paste(inner, ((size - nw) // 2, (size - nh) // 2))
        return out
    raise ValueError(f"fit must be one of {', '.join(FITS)}, not {fit!r}")


def prepare_rgb(image: np.ndarray, size: int, fit: str) -> np.ndarray:
    """Displayed uint8 image → (size, size, 3) uint8 RGB (grey replicated after resizing)."""
    out = np.asarray(fit_image(to_pil(image), size, fit))
    if out.ndim == 2:
        out = np.repeat(out[:, :, None], 3, axis=2)
    return out


def _check_fit(fit: str) -> str:
    if fit not in FITS:
        raise UsageError(f"fit must be one of {', '.join(FITS)}, not {fit!r}")
    return fit


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__


# -- torch-based representations ----------------------------------------------------------------

def _result(future: Future[np.ndarray], check: Callable[[], None] | None) -> np.ndarray:
    """The future's result, calling `check` every `POLL_S` while waiting."""
    if check is None:
        return future.result()
    while True:
        check()
        try:
            return future.result(timeout=POLL_S)
        except FutureTimeout:
            continue


class Pending:
    """A batch on its way through the model: `result(check)` waits for its vectors (calling
    `check` while it waits), `cancel()` drops what has not started. Either queued parts
    (`futures`) or work deferred until the result is asked for (`later(check)`)."""

    def __init__(self, futures: list[Future[np.ndarray]] | None = None,
                 later: Callable[[Callable[[], None] | None], np.ndarray] | None = None
                 ) -> None:
        self._futures = futures or []
        self._later = later
        self._done: np.ndarray | None = None

    def result(self, check: Callable[[], None] | None = None) -> np.ndarray:
        if self._done is None:
            if self._later is not None:
                self._done = self._later(check)
                return self._done
            try:
                outs = [_result(f, check) for f in self._futures]
            finally:
                self.cancel()
            self._done = np.concatenate(outs).astype(np.float32, copy=False)
        return self._done

    def cancel(self) -> None:
        for f in self._futures:
            f.cancel()


def _one_torch_thread() -> None:
    torch.set_num_threads(1)  # per thread: the caller's own setting is left alone


class _TorchRepresentation:
    """Shared batching for models fed (B, 3, S, S) float tensors.

    On CPU, a batch is split into parts that run in `cpu_threads` threads with one torch
    (OpenMP) thread each ("items" parallelism). Measured on a shared 2-core machine this is
    both faster than one call with 2 OpenMP threads and far more robust: OpenMP's barriers
    collapse (6 images/s instead of 40) as soon as another process or our own decoders want a
    core. `cpu_parallel="ops"` runs one call at a time with `cpu_threads` OpenMP threads
    instead. On CUDA/MPS, parts of `chunk` images run one after the other.
    """

    id: str
    dim: int
    device: str
    image_size: int
    source_side: int
    fit: str
    chunk: int
    channels_last: bool
    cpu_threads: int
    cpu_parallel: str
    _pool: ThreadPoolExecutor | None = None

    def _setup(self, device: str | None, image_size: int, fit: str, chunk: int | None,
               cpu_threads: int | None, cpu_parallel: str) -> None:
        self.device = pick_device(device)
        self.image_size = int(image_size)
        if self.image_size < 1:
            raise UsageError(f"image size must be positive, not {image_size}")
        self.source_side = self.image_size
        self.fit = _check_fit(fit)
        on_cpu = self.device == "cpu"
        self.chunk = int(chunk or (CPU_CHUNK if on_cpu else GPU_CHUNK))
        self.cpu_threads = int(cpu_threads or usable_cores())
        if cpu_parallel not in ("items", "ops"):
            raise UsageError(f"cpu_parallel must be 'items' or 'ops', not {cpu_parallel!r}")
        self.cpu_parallel = cpu_parallel

    def prepare(self, image: np.ndarray) -> np.ndarray:
        return prepare_rgb(image, self.image_size, self.fit)

    def _to_input(self, batch: torch.Tensor) -> torch.Tensor:
        """(B, 3, S, S) float in [0, 1] on the device → what the model takes."""
        return batch

    def _run(self, x: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def _forward(self, part: torch.Tensor) -> np.ndarray:
        """(b, H, W, 3) uint8 on CPU → (b, dim) float32; callable from any thread."""
        with torch.inference_mode():  # thread-local, so entered here
            # uint8 NHWC → permute gives an NCHW view that is channels_last in memory; sending
            # uint8 to a GPU moves 4x fewer bytes than float.
            u8 = part.to(self.device, non_blocking=True)
            x = u8.permute(0, 3, 1, 2).float().div_(255.0)
            x = x.contiguous(memory_format=torch.channels_last if self.channels_last
                             else torch.contiguous_format)
            y = self._run(self._to_input(x))
            return y.reshape(len(part), -1).float().cpu().numpy()

    def _executor(self) -> ThreadPoolExecutor:
        if self._pool is None:
            self._pool = ThreadPoolExecutor(self.cpu_threads, thread_name_prefix="aldesk-model",
                                            initializer=_one_torch_thread)
        return self._pool

    def submit_prepared(self, batch: np.ndarray) -> Pending:
        """Queues a batch on the model threads and returns at once (CPU "items" parallelism;
        other settings compute it when its result is asked for, cancellable as ever). A caller
        that submits the next batch before collecting this one keeps every core busy across
        the batch boundary."""
        if len(batch) == 0 or not (self.device == "cpu" and self.cpu_parallel == "items"):
            return Pending(later=lambda check: self.embed_prepared(batch, check))
        u8 = torch.from_numpy(np.ascontiguousarray(batch))
        # All parts queued at once: each model thread takes the next part as soon as it is
        # free. The caller's thread and its torch thread count are left alone.
        size = min(self.chunk, -(-len(u8) // self.cpu_threads))
        pool = self._executor()
        return Pending([pool.submit(self._forward, u8[s:s + size])
                        for s in range(0, len(u8), size)])

    def embed_prepared(self, batch: np.ndarray, check: Callable[[], None] | None = None
                       ) -> np.ndarray:
        if len(batch) == 0:
            return np.zeros((0, self.dim), np.float32)
        if self.device == "cpu" and self.cpu_parallel == "items":
            return self.submit_prepared(batch).result(check)
        u8 = torch.from_numpy(np.ascontiguousarray(batch))
        if self.device == "cpu":
            set_torch_threads(self.cpu_threads)
        outs = []
        for s in range(0, len(u8), self.chunk):
            if check is not None:
                check()
            outs.append(self._forward(u8[s:s + self.chunk]))
        return np.concatenate(outs).astype(np.float32, copy=False)

    def embed(self, images: list[np.ndarray]) -> np.ndarray:
        if not images:
            return np.zeros((0, self.dim), np.float32)
        return self.embed_prepared(np.stack([self.prepare(im) for im in images]))

    def close(self) -> None:
        """Stops the CPU model threads (they are also stopped at exit)."""
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None


class EfficientNetRepresentation(_TorchRepresentation):
    """EfficientNet-Lite0 ImageNet features: the 1280 after the head, before the classifier,
    then two middle blocks' pooled outputs (192 + 112; `EfficientNetLite0.embedding`).

    `fit` says how a non-square image becomes `image_size` x `image_size` (module docstring);
    BatchNorm is folded into the convolutions for speed (same features to ~1e-5), and the
    features run as a frozen TorchScript graph that releases the interpreter lock
    (`efficientnet.frozen_features`; `frozen=False`, or a failed trace, runs the module).
    """

    def __init__(self, device: str | None = None, image_size: int = 224, fit: str = "crop",
                 chunk: int | None = None, cpu_threads: int | None = None,
                 cpu_parallel: str = "items", frozen: bool = True) -> None:
        if int(image_size) < 32:
            raise UsageError(f"image size must be at least 32, not {image_size}")
        self._setup(device, image_size, fit, chunk, cpu_threads, cpu_parallel)
        self.channels_last = True
        model = fuse_batchnorm(load_efficientnet_lite0())
        self.model = model.to(self.device, memory_format=torch.channels_last).eval()
        self._frozen = frozen_features(self.model, self.image_size, self.device) if frozen \
            else None
        self.dim = EMBEDDING_DIM
        self.id = representation_id("efficientnet_lite0", self.image_size, fit)

    def set_layout(self, channels_last: bool) -> None:
        """Run the model in NCHW or channels_last memory layout (benchmarks compare them)."""
        fmt = torch.channels_last if channels_last else torch.contiguous_format
        self.model.to(memory_format=fmt)
        self.channels_last = channels_last
        if self._frozen is not None:
            self._frozen = frozen_features(self.model, self.image_size, self.device,
                                           channels_last)

    def _to_input(self, batch: torch.Tensor) -> torch.Tensor:
        return batch.mul_(2.0).sub_(1.0)  # [0, 1] → [-1, 1]: mean = std = 0.5

    @property
    def features(self) -> Callable[[torch.Tensor], torch.Tensor]:
        """What `embed_prepared` runs on normalised (B, 3, S, S) tensors."""
        return self._frozen or self.model.embedding

    def _run(self, x: torch.Tensor) -> torch.Tensor:
        frozen = self._frozen
        if frozen is not None and tuple(x.shape[-2:]) == (self.image_size,) * 2:
            try:
                return frozen(x)
            except RuntimeError as err:  # a graph that fails at run time: the module from now
                log.warning("the model runs eagerly from now on (the graph failed: %s)", err)
                self._frozen = None
        return self.model.embedding(x)


class TorchScriptRepresentation(_TorchRepresentation):
    """A user's TorchScript model fed (B, 3, S, S) float RGB in [0, 1]; output flattened.

    The dimension is found by a dry run on one black image. A file that is missing, is not
    TorchScript, or fails on that input is a `RepresentationError` (a ValueError, one line).
    The id carries a hash of the file, so a changed model gets a new embedding cache.
    """

    def __init__(self, path: str | os.PathLike[str], device: str | None = None,
                 image_size: int = 224, fit: str = "crop", chunk: int | None = None,
                 cpu_threads: int | None = None, cpu_parallel: str = "items") -> None:
        self.path = Path(path)
        self._setup(device, image_size, fit, chunk, cpu_threads, cpu_parallel)
        self.channels_last = False
        name = self.path.name
        if not self.path.is_file():
            raise RepresentationError(f"TorchScript model file not found: {self.path}")
        try:
            digest = hashlib.sha256(self.path.read_bytes()).hexdigest()[:16]
            with warnings.catch_warnings():  # torch 2.9+ marks TorchScript as deprecated
                warnings.simplefilter("ignore", DeprecationWarning)
                self.model = torch.jit.load(str(self.path), map_location=self.device)
        except Exception as exc:
            raise RepresentationError(
                f"{name} is not a TorchScript model file ({_first_line(exc)})") from None
        self.model.eval()
        self.dim = 1
        try:
            with torch.inference_mode():
                out = self._run(torch.zeros(1, 3, self.image_size, self.image_size,
                                            device=self.device))
            if not isinstance(out, torch.Tensor):
                raise TypeError(f"it returned {type(out).__name__}, not one tensor")
            if out.ndim == 0 or out.shape[0] != 1 or out[0].numel() == 0:
                raise TypeError(f"its output shape {tuple(out.shape)} has no batch axis")
            self.dim = int(out[0].numel())
        except Exception as exc:
            raise RepresentationError(
                f"{name} cannot embed a 3x{self.image_size}x{self.image_size} image "
                f"({_first_line(exc)})") from None
        self.id = representation_id(f"torchscript:{digest}", self.image_size, fit)

    def _run(self, x: torch.Tensor) -> torch.Tensor:
        return self.model(x)


# -- pixels -------------------------------------------------------------------------------------

class PixelsRepresentation:
    """Raw pixels: grey, area-downsampled to size x size (aspect not kept), scaled to [0, 1].

    A fast fallback that needs no model. PCA, if wanted, is fitted later on the whole pool by
    the caller, not here.
    """

    def __init__(self, size: int = 32) -> None:
        self.size = int(size)
        if self.size < 1:
            raise UsageError(f"pixel size must be positive, not {size}")
        self.dim = self.size * self.size
        self.source_side = self.size
        self.id = representation_id("pixels", self.size)

    def prepare(self, image: np.ndarray) -> np.ndarray:
        im = to_pil(image)
        if im.mode != "L":
            im = im.convert("L")  # ITU-R 601 luma
        return np.asarray(im.resize((self.size, self.size), Image.Resampling.BOX))

    def embed_prepared(self, batch: np.ndarray, check: Callable[[], None] | None = None
                       ) -> np.ndarray:
        flat = np.asarray(batch, dtype=np.float32).reshape(len(batch), -1)
        return flat / np.float32(255.0)

    def embed(self, images: list[np.ndarray]) -> np.ndarray:
        if not images:
            return np.zeros((0, self.dim), np.float32)
        return self.embed_prepared(np.stack([self.prepare(im) for im in images]))


class CombinedRepresentation:
    """Raw pixels and ImageNet features side by side (COMBINED): a vector is its parts'
    vectors concatenated, in order. The embedding cache stores each part under its own id, so
    a project that has either part embedded already has half of this; `services.embedding`
    embeds and reads the parts. The heads weigh the parts equally (`committee.preprocess_for`).
    """

    def __init__(self, parts: list[Representation]) -> None:
        self.parts = parts
        self.id = "+".join(p.id for p in parts)
        self.dim = sum(p.dim for p in parts)
        self.source_side = max(p.source_side for p in parts)

    def embed(self, images: list[np.ndarray]) -> np.ndarray:
        """Displayed uint8 images (any sizes) → (B, dim) float32."""
        return np.hstack([p.embed(images) for p in self.parts])


NAMES = ("efficientnet_lite0", "pixels", COMBINED, "torchscript:PATH")
_shared: dict[tuple, Representation] = {}
_shared_lock = threading.Lock()


def get_representation(name: str, device: str | None = None, image_size: int | None = None
                       ) -> Representation | CombinedRepresentation:
    """"efficientnet_lite0" (default 224), "pixels" (default 32), COMBINED (both, at their
    defaults) or "torchscript:PATH" (224).

    `image_size` is the model input side (the pixel grid side for "pixels").
    """
    if name == COMBINED:
        if image_size is not None:
            raise UsageError(f"{COMBINED} takes its parts' own sizes")
        return CombinedRepresentation([get_representation(part, device)  # type: ignore[misc]
                                       for part in parts(COMBINED)])
    if name == "efficientnet_lite0":
        # One instance per setting and process: loading the weights takes a few hundred ms
        # of interpreter time, and the app asks again for every round of training.
        key = (device, image_size or 224)
        with _shared_lock:
            rep = _shared.get(key)
            if rep is None:
                rep = _shared[key] = EfficientNetRepresentation(device=device,
                                                                image_size=image_size or 224)
        return rep
    if name == "pixels":
        return PixelsRepresentation(size=image_size or 32)
    if name.startswith("torchscript:"):
        path = name.removeprefix("torchscript:")
        if not path:
            raise RepresentationError("torchscript: needs a model file path, e.g. "
                                      "torchscript:/path/model.pt")
        # Shared too while the file is unchanged: `aldesk train` checks the file, then trains.
        try:
            st = os.stat(path)
        except OSError:
            return TorchScriptRepresentation(path, device=device, image_size=image_size or 224)
        key = (device, image_size or 224, os.path.abspath(path), st.st_size, st.st_mtime_ns)
        with _shared_lock:
            rep = _shared.get(key)
            if rep is None:
                rep = _shared[key] = TorchScriptRepresentation(
                    path, device=device, image_size=image_size or 224)
        return rep
    raise RepresentationError(f"unknown backbone {name!r}; use one of {', '.join(NAMES)}")
