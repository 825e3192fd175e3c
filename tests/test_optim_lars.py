"""LARS / LARC against a float64 reference written here from the update equations (You et al. 2017,
Algorithm 1; apex LARC as SwAV uses it), over several momentum steps; parameter groups that keep
biases and norm parameters out of decay and adaptation; zero-norm weights take a plain SGD step."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from avssl.train.lars import LARS
from avssl.train.param_groups import param_groups

LR, MOMENTUM, DECAY, ETA, EPS = 0.7, 0.9, 0.05, 0.02, 1e-8
STEPS = 5


def reference_update(w: np.ndarray, g: np.ndarray, mode: str, clip: bool, decay: float, adapt: bool) -> np.ndarray:
    """The direction u that enters the momentum buffer, for one tensor."""
    if not adapt:
        return g + decay * w
    w_norm, g_norm = np.linalg.norm(w), np.linalg.norm(g)
    if mode == "lars":  # BYOL / Barlow Twins: trust ratio of the decayed gradient
        u = g + decay * w
        u_norm = np.linalg.norm(u)
        return u * (ETA * w_norm / u_norm) if w_norm > 0 and u_norm > 0 else u
    if w_norm == 0 or g_norm == 0:  # apex LARC leaves such a gradient alone, without decay
        return g
    ratio = ETA * w_norm / (g_norm + decay * w_norm + EPS)
    if clip:
        ratio = min(ratio / LR, 1.0)
    return (g + decay * w) * ratio


def reference_run(weights: list[np.ndarray], grads: list[list[np.ndarray]], mode: str, clip: bool,
                  decays: list[float], adapts: list[bool]) -> list[np.ndarray]:
    """SGD with momentum (dampening 0, buffer = u at the first step) over the LARS directions."""
    w = [x.copy() for x in weights]
    buffers: list[np.ndarray | None] = [None] * len(w)
    for step_grads in grads:
        for i, g in enumerate(step_grads):
            u = reference_update(w[i], g, mode, clip, decays[i], adapts[i])
            buffers[i] = u.copy() if buffers[i] is None else MOMENTUM * buffers[i] + u
            w[i] = w[i] - LR * buffers[i]
    return w


class Net(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.fc1 = nn.Linear(6, 5)
        self.bn = nn.BatchNorm1d(5)
        self.fc2 = nn.Linear(5, 3, bias=False)


def make_net() -> Net:
    torch.manual_seed(0)
    net = Net().double()
    with torch.no_grad():
        for p in net.parameters():
            p.copy_(torch.randn_like(p))
    return net


def gradients(net: nn.Module, seed: int = 1) -> list[list[torch.Tensor]]:
    g = torch.Generator().manual_seed(seed)
    return [[torch.randn(p.shape, generator=g, dtype=torch.float64) * (0.1 + s) for p in net.parameters()]
            for s in range(STEPS)]


def run_lars(net: nn.Module, groups, grads, mode: str, clip: bool) -> None:
    optimizer = LARS(groups, lr=LR, momentum=MOMENTUM, weight_decay=DECAY, eta=ETA, mode=mode, clip=clip, eps=EPS)
    for step_grads in grads:
        for p, g in zip(net.parameters(), step_grads):
            p.grad = g.clone()
        optimizer.step()


@pytest.mark.parametrize("mode, clip", [("lars", False), ("larc", False), ("larc", True)])
def test_lars_matches_the_float64_reference_over_momentum_steps(mode, clip):
    net = make_net()
    start = [p.detach().numpy().copy() for p in net.parameters()]
    grads = gradients(net)
    run_lars(net, net.parameters(), grads, mode, clip)
    n = len(start)
    expected = reference_run(start, [[g.numpy() for g in step] for step in grads], mode, clip, [DECAY] * n, [True] * n)
    for p, e in zip(net.parameters(), expected):
        np.testing.assert_allclose(p.detach().numpy(), e, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("mode, clip", [("lars", False), ("larc", True)])
def test_biases_and_norm_parameters_get_no_decay_and_no_adaptation(mode, clip):
    net = make_net()
    start = [p.detach().numpy().copy() for p in net.parameters()]
    grads = gradients(net, seed=2)
    groups = param_groups(net, LR, DECAY, exclude_bias_and_norm=True)
    run_lars(net, groups, grads, mode, clip)
    names = [name for name, _ in net.named_parameters()]
    excluded = [name in ("fc1.bias", "bn.weight", "bn.bias") for name in names]
    expected = reference_run(start, [[g.numpy() for g in step] for step in grads], mode, clip,
                             [0.0 if e else DECAY for e in excluded], [not e for e in excluded])
    for name, p, e in zip(names, net.parameters(), expected):
        np.testing.assert_allclose(p.detach().numpy(), e, rtol=1e-12, atol=1e-12, err_msg=name)
    # ...and the adaptation matters: an adapted step of fc1.weight is not the plain SGD one
    plain = reference_run(start, [[g.numpy() for g in step] for step in grads], mode, clip, [0.0] * 5, [False] * 5)
    assert not np.allclose(expected[0], plain[0])


@pytest.mark.parametrize("mode, clip", [("lars", False), ("larc", False), ("larc", True)])
def test_zero_norm_weights_take_a_plain_sgd_step(mode, clip):
    w = nn.Parameter(torch.zeros(4, 3, dtype=torch.float64))
    g1 = torch.arange(12, dtype=torch.float64).reshape(4, 3) / 10
    optimizer = LARS([w], lr=LR, momentum=MOMENTUM, weight_decay=DECAY, eta=ETA, mode=mode, clip=clip, eps=EPS)
    w.grad = g1.clone()
    optimizer.step()
    torch.testing.assert_close(w.detach(), -LR * g1, rtol=0, atol=1e-15)  # u = g: no trust ratio, decay of 0 is 0


def test_a_zero_gradient_leaves_larc_weights_and_lars_weights_alone_apart_from_decay():
    w = nn.Parameter(torch.ones(3, dtype=torch.float64))
    for mode in ("lars", "larc"):
        with torch.no_grad():
            w.fill_(1.0)
        optimizer = LARS([w], lr=LR, momentum=0.0, weight_decay=DECAY, eta=ETA, mode=mode)
        w.grad = torch.zeros(3, dtype=torch.float64)
        optimizer.step()
        # lars: u = λw rescaled to the norm η‖w‖, i.e. u = η·w here; larc: ‖g‖ = 0, so u = g = 0 (no decay either)
        expected = 1.0 - LR * ETA if mode == "lars" else 1.0
        np.testing.assert_allclose(w.detach().numpy(), np.full(3, expected), rtol=1e-12)


def test_bad_settings_are_refused_with_the_reason():
    w = [nn.Parameter(torch.ones(2))]
    with pytest.raises(ValueError, match="mode"):
        LARS(w, lr=0.1, mode="lamb")
    with pytest.raises(ValueError, match="clip applies to mode='larc'"):
        LARS(w, lr=0.1, mode="lars", clip=True)
    with pytest.raises(ValueError, match="eta > 0"):
        LARS(w, lr=0.1, eta=0.0)


def test_param_groups_split_decay_and_fixed_lr_and_name_the_groups():
    class WithPredictor(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.body = Net()
            self.predictor = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4))

    model = WithPredictor()
    groups = {g["name"]: g for g in param_groups(model, 0.1, 1e-4, exclude_bias_and_norm=True, excluded_lr=0.01,
                                                 fixed_lr=["predictor"])}
    named = {id(p): n for n, p in model.named_parameters()}
    members = {name: sorted(named[id(p)] for p in g["params"]) for name, g in groups.items()}
    assert members == {
        "weights": ["body.fc1.weight", "body.fc2.weight"],
        "bias_and_norm": ["body.bn.bias", "body.bn.weight", "body.fc1.bias"],
        "weights_fixed_lr": ["predictor.0.weight"],
        "bias_and_norm_fixed_lr": ["predictor.0.bias", "predictor.1.bias", "predictor.1.weight"],
    }
    assert (groups["weights"]["weight_decay"], groups["weights"]["lr"], groups["weights"]["lars_adapt"]) == (1e-4, 0.1, True)
    assert (groups["bias_and_norm"]["weight_decay"], groups["bias_and_norm"]["lr"],
            groups["bias_and_norm"]["lars_adapt"]) == (0.0, 0.01, False)
    assert groups["weights_fixed_lr"]["fixed_lr"] and not groups["weights"]["fixed_lr"]


def test_without_exclusions_there_is_one_group_in_parameter_order():
    net = make_net()
    (group,) = param_groups(net, 0.1, 1e-5)
    assert [id(p) for p in group["params"]] == [id(p) for p in net.parameters()]


def test_a_fixed_lr_prefix_that_matches_nothing_names_the_top_level_modules():
    with pytest.raises(ValueError, match=r"optim.fixed_lr_params: \['predictr'\] match no trainable parameter.*bn, fc1"):
        param_groups(make_net(), 0.1, 0.0, fixed_lr=["predictr"])
