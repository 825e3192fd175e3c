"""LARS: SGD with momentum and a layer-wise trust ratio (You, Gitman & Ginsburg, 2017, Algorithm 1),
as used by BYOL, Barlow Twins (mode "lars") and, through apex's LARC wrapper, SwAV and SEER
(mode "larc").

For each parameter tensor w with gradient g, weight decay λ, trust coefficient η, learning rate γ:

  mode "lars" (BYOL / Barlow Twins):   u = g + λw;   u ← u · η‖w‖ / ‖u‖          (if ‖w‖ > 0 and ‖u‖ > 0)
  mode "larc" (apex LARC, clip=False): r = η‖w‖ / (‖g‖ + λ‖w‖ + ε);  u = (g + λw) · r   (if ‖w‖ > 0 and ‖g‖ > 0,
                                       else u = g, without decay, as apex does); clip=True: r ← min(r / γ, 1)
  then, in both, the SGD momentum step of torch.optim.SGD (dampening 0):
      m ← μ·m + u (m = u at the first step);  w ← w − γ·m

A parameter group with `lars_adapt=False` (biases and norm parameters, BYOL Sec. 3.3, Barlow Twins
Appendix: "excluded from LARS adaptation and weight decay") takes u = g + λw with its own λ
(usually 0). Norms are computed for all tensors of a group in one `torch._foreach_norm` call.
"""

from __future__ import annotations

import torch
from torch.optim import Optimizer

__all__ = ["LARS", "LARS_MODES"]

LARS_MODES = ("lars", "larc")


class LARS(Optimizer):
    """LARS / LARC (module docstring). Group keys: lr, momentum, weight_decay, eta, lars_adapt."""

    def __init__(self, params, lr: float, momentum: float = 0.9, weight_decay: float = 0.0, eta: float = 0.001,
                 mode: str = "lars", clip: bool = False, eps: float = 1e-8) -> None:
        if mode not in LARS_MODES:
            raise ValueError(f"LARS mode must be one of {LARS_MODES}; got {mode!r}.")
        if clip and mode != "larc":
            raise ValueError("LARS: clip applies to mode='larc' (apex LARC's clipping) only.")
        if lr < 0 or momentum < 0 or weight_decay < 0 or eta <= 0:
            raise ValueError(f"LARS: need lr, momentum, weight_decay >= 0 and eta > 0; got {lr}, {momentum}, "
                             f"{weight_decay}, {eta}.")
        self.mode, self.clip, self.eps = mode, clip, eps
        super().__init__(params, {"lr": lr, "momentum": momentum, "weight_decay": weight_decay, "eta": eta,
                                  "lars_adapt": True})

    def _updates(self, params: list[torch.Tensor], grads: list[torch.Tensor], group: dict) -> list[torch.Tensor]:
        decay = group["weight_decay"]
        decayed = torch._foreach_add(grads, params, alpha=decay) if decay else [g.clone() for g in grads]
        if not group["lars_adapt"]:
            return decayed
        eta = group["eta"]
        weight_norms = torch._foreach_norm(params)
        if self.mode == "lars":
            update_norms = torch._foreach_norm(decayed)
            for u, w_norm, u_norm in zip(decayed, weight_norms, update_norms):
                trust = torch.where((w_norm > 0) & (u_norm > 0), eta * w_norm / u_norm, torch.ones_like(w_norm))
                u.mul_(trust)
            return decayed
        grad_norms = torch._foreach_norm(grads)
        updates = []
        for g, u, w_norm, g_norm in zip(grads, decayed, weight_norms, grad_norms):
            ratio = eta * w_norm / (g_norm + decay * w_norm + self.eps)
            if self.clip:
                ratio = torch.clamp(ratio / group["lr"], max=1.0)
            adapt = (w_norm > 0) & (g_norm > 0)
            updates.append(torch.where(adapt, u * ratio, g))
        return updates

    @torch.no_grad()
    def step(self, closure=None):
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            params = [p for p in group["params"] if p.grad is not None]
            if not params:
                continue
            for p, u in zip(params, self._updates(params, [p.grad for p in params], group)):
                state = self.state[p]
                if "momentum_buffer" not in state:
                    state["momentum_buffer"] = u.clone()
                else:
                    state["momentum_buffer"].mul_(group["momentum"]).add_(u)
                p.add_(state["momentum_buffer"], alpha=-group["lr"])
        return loss
