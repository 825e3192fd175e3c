"""Parameter groups for the optimisers: which tensors get weight decay and LARS adaptation, and which
keep a fixed learning rate.

- Biases and normalisation parameters (BatchNorm, GroupNorm, LayerNorm weights and biases) are
  excluded from weight decay and from LARS adaptation when `exclude_bias_and_norm` is set (BYOL
  Sec. 3.3 / Appendix C, Barlow Twins Appendix: weight decay and LARS scale the weights of a layer,
  and decaying a BN scale only fights the next layer). SwAV and SEER keep one group (apex LARC over
  `model.parameters()`); SimSiam decays everything.
- Parameters whose name (relative to the method, e.g. "predictor.layers.0.weight") starts with one
  of `fixed_lr` prefixes keep the base learning rate while the rest follow the schedule (SimSiam's
  predictor, Sec. 4.2 and `--fix-pred-lr`).

Each group is a dict with params, lr, weight_decay, lars_adapt (read by avssl.train.lars.LARS,
ignored by Adam/SGD), fixed_lr (read by the schedule) and name. Groups keep parameter order, and
with no exclusion and no fixed prefixes there is exactly one group: the parameters in
`model.parameters()` order (AVID's optimiser is unchanged).
"""

from __future__ import annotations

from collections.abc import Sequence

from torch import nn

__all__ = ["NORM_LAYERS", "is_bias_or_norm", "param_groups"]

NORM_LAYERS = (nn.modules.batchnorm._NormBase, nn.GroupNorm, nn.LayerNorm)


def is_bias_or_norm(module: nn.Module, param_name: str) -> bool:
    """A bias of any layer, or a weight of a normalisation layer."""
    return param_name == "bias" or isinstance(module, NORM_LAYERS)


def param_groups(model: nn.Module, lr: float, weight_decay: float, exclude_bias_and_norm: bool = False,
                 excluded_lr: float | None = None, fixed_lr: Sequence[str] = ()) -> list[dict]:
    """Trainable parameters of `model` in up to four groups: (decayed | bias-and-norm) × (scheduled | fixed).

    Args:
        lr: base learning rate (already scaled by batch size if the recipe asks for it).
        weight_decay: λ of the decayed groups.
        exclude_bias_and_norm: biases and norm parameters get weight decay 0 and no LARS adaptation.
        excluded_lr: learning rate of those (Barlow Twins: 0.0048 per 256 vs 0.2 for weights); None = `lr`.
        fixed_lr: parameter-name prefixes whose learning rate the schedule leaves at its base value.
    """
    prefixes = tuple(p.rstrip(".") for p in fixed_lr)
    groups: dict[tuple[bool, bool], dict] = {}
    used: set[str] = set()
    seen: set[int] = set()
    for module_name, module in model.named_modules():
        for param_name, param in module.named_parameters(recurse=False):
            if not param.requires_grad or id(param) in seen:
                continue
            seen.add(id(param))
            full_name = f"{module_name}.{param_name}" if module_name else param_name
            matched = [p for p in prefixes if full_name == p or full_name.startswith(p + ".")]
            used.update(matched)
            excluded = exclude_bias_and_norm and is_bias_or_norm(module, param_name)
            key = (excluded, bool(matched))
            if key not in groups:
                groups[key] = {"name": ("bias_and_norm" if excluded else "weights") + ("_fixed_lr" if matched else ""),
                               "params": [], "lr": excluded_lr if excluded and excluded_lr is not None else lr,
                               "weight_decay": 0.0 if excluded else weight_decay, "lars_adapt": not excluded,
                               "fixed_lr": bool(matched)}
            groups[key]["params"].append(param)
    unused = [p for p in prefixes if p not in used]
    if unused:
        tops = sorted({name.split(".")[0] for name, _ in model.named_parameters()})
        raise ValueError(f"optim.fixed_lr_params: {unused} match no trainable parameter; names start with "
                         f"{', '.join(tops)} (e.g. 'predictor' for SimSiam)")
    return [groups[key] for key in sorted(groups)]
