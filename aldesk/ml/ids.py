"""Representation ids without torch: which preprocessing version this aldesk writes.

An id names the model and its preprocessing ("efficientnet_lite0/224/v4", "pixels/32/v2",
"torchscript:HASH/224/v3"); its last part is bumped whenever what the model is fed changes, so
that vectors and models of the older preprocessing are known for what they are. The combined
representation's id joins its parts' ids with "+" ("pixels/32/v2+efficientnet_lite0/224/v4"):
its vectors are its parts' side by side, stored once per part.
"""

from __future__ import annotations

#: The preprocessing version each family's ids end with. efficientnet_lite0 v4: two middle
#: blocks' pooled outputs after the head's 1280 features (`EFFICIENTNET_PARTS`); v3 / pixels
#: v2: JPEGs decoded at a reduced scale (`io.render`'s `reduce_to`); v2: box-reduce before
#: resizing.
VERSIONS = {"efficientnet_lite0": "v4", "torchscript": "v3", "pixels": "v2"}
#: The parts of an efficientnet_lite0 v4 vector (`ml.efficientnet.EMBEDDING_PARTS`), which the
#: heads weigh equally (`ml.committee.preprocess_for`); older versions are one 1280 part.
EFFICIENTNET_PARTS = (1280, 192, 112)
#: The input side each family is built with unless told otherwise (`backbones`).
DEFAULT_SIZES = {"efficientnet_lite0": 224, "torchscript": 224, "pixels": 32}


#: Raw pixels and ImageNet features side by side (`ml.backbones.CombinedRepresentation`).
COMBINED = "pixels+efficientnet_lite0"


def parts(rep_id: str) -> list[str]:
    """The ids a representation id is made of: itself, or a combined id's parts."""
    return rep_id.split("+")


def representation_id(name: str, size: int | None = None, fit: str = "crop") -> str:
    """The id of representation `name` ("efficientnet_lite0", "pixels", or
    "torchscript:HASH") fed `size` px images fitted by `fit`: what `ml.backbones` names its
    representations, known here without building one (no torch, no weights)."""
    if name == COMBINED:
        return "+".join(representation_id(part) for part in parts(name))
    kind = family(name)
    side = DEFAULT_SIZES[kind] if size is None else int(size)
    return f"{name}/{side}{'' if fit == 'crop' else '/' + fit}/{VERSIONS[kind]}"


def family(rep_id: str) -> str:
    """"efficientnet_lite0", "pixels", "torchscript", ... of an id; COMBINED for a combined
    one."""
    return "+".join(part.split("/", 1)[0].split(":", 1)[0] for part in parts(rep_id))


def blocks(rep_id: str, dims: int) -> tuple[int, ...]:
    """The sizes of the blocks a single representation's `dims`-long vector is made of, which
    its heads weigh equally: efficientnet_lite0's three parts, else one block."""
    if family(rep_id) == "efficientnet_lite0" and dims == sum(EFFICIENTNET_PARTS):
        return EFFICIENTNET_PARTS
    return (dims,)


def raw_pixels(rep: str) -> bool:
    """Whether a representation (name or id) is raw pixels alone, not learned features: `auto`
    picks differently on them (`al.policy.warm_strategy`)."""
    return family(rep) == "pixels"


def is_current(rep_id: str) -> bool:
    """False for an id this aldesk would now write with a newer version (an upgrade changed
    that representation's preprocessing); True for current and unknown families."""
    for part in parts(rep_id):
        wanted = VERSIONS.get(family(part))
        if wanted is not None and part.rpartition("/")[2] != wanted:
            return False
    return True
