"""pyiqa training model for Life-IQA: pyiqa's GeneralIQAModel plus the MoE auxiliary losses.

pyiqa's ``GeneralIQAModel`` feeds the network output straight into its losses, so the
mixture-of-experts losses of Life-IQA (load balance, router z-loss) need this subclass. Select
it with ``model_type: LifeIQAModel``; the YAML ``train:`` section sets::

    train:
      aux_loss:
        load_balance_weight: 0.01   # load balance (the network's balance_loss form)
        router_z_weight: 0.001      # ST-MoE router z-loss
      input_gradient_penalty: 0.0   # weight of the mean squared norm of d score / d pixels (optional)
      grad_clip: 5.0                # max gradient norm (optional)
      fp16: true                    # autocast + gradient scaling, on CUDA only (optional)
      total_epoch: 30               # needed by TimmScheduler (pyiqa derives total_iter from it)
      scheduler:                    # optional: the authors' schedule, stepped every iteration
        type: TimmScheduler         # other keys: timm's create_scheduler_v2 arguments, in epochs
        sched: step                 # or cosine (with min_lr)
        decay_epochs: 10
        decay_rate: 0.1
        warmup_epochs: 2            # linear warm-up from warmup_lr
        warmup_lr: !!float 2e-7

``input_gradient_penalty`` (double backpropagation) trains the network to be less sensitive to
small pixel changes, so that optimising images against it (as a restoration loss) is harder to
exploit; it costs a second backward pass through the network every iteration.

Any other scheduler type is pyiqa's (stepped once per epoch). Biases and 1-D parameters (norms)
get no weight decay. Validation is pyiqa's own, with the network in eval mode (deterministic
crops, averaged).
"""

from __future__ import annotations

from collections import OrderedDict
from contextlib import nullcontext

import torch
from pyiqa.metrics import calculate_metric
from pyiqa.models.general_iqa_model import GeneralIQAModel
from pyiqa.utils.registry import MODEL_REGISTRY
from timm.scheduler import create_scheduler_v2
from torch.nn.attention import SDPBackend, sdpa_kernel
from torch.nn.parallel import DistributedDataParallel
from torch.nn.utils import clip_grad_norm_

DEFAULT_AUX_WEIGHTS = {'load_balance': 0.01, 'router_z': 0.001}
TIMM_SCHEDULER = 'TimmScheduler'


def no_weight_decay(net: torch.nn.Module) -> set[str]:
    """The parameters AdamW should not decay, by name (timm's rule): biases, 1-D (norm) and scalar
    parameters, and those the network lists in its ``no_weight_decay()``."""
    listed = net.no_weight_decay() if hasattr(net, 'no_weight_decay') else set()
    return {name for name, p in net.named_parameters() if p.ndim <= 1 or name.endswith('.bias') or name in listed}


@MODEL_REGISTRY.register()
class LifeIQAModel(GeneralIQAModel):
    """GeneralIQAModel whose loss adds ``w_lb * L_load_balance + w_z * L_router_z``."""

    def model_to_device(self, net: torch.nn.Module) -> torch.nn.Module:
        """As pyiqa's, but distributed training also works on the CPU (gloo), where DDP takes no device ids."""
        if self.opt['dist'] and self.device.type == 'cpu':
            return DistributedDataParallel(net.to(self.device))
        return super().model_to_device(net)

    def test(self) -> None:
        """Eval-mode scores of the fed batch, through the bare network.

        pyiqa validates on rank 0 only; a forward through the DDP wrapper there would wait for the
        other ranks to sync buffers.
        """
        net = self.get_bare_model(self.net)
        net.eval()
        with torch.no_grad():
            self.output_score = net(self.img_input)
        net.train()

    def feed_data(self, data: dict) -> None:
        """pyiqa's; a batch of image groups ``[B, K, C, H, W]`` (``ReferenceGroupDataset``) is fed as B * K images."""
        if data['img'].ndim == 5:
            data = {**data, 'img': data['img'].flatten(0, 1), 'mos_label': data['mos_label'].flatten(0, 1)}
        super().feed_data(data)

    def init_training_settings(self) -> None:
        train_opt = self.opt['train']
        aux_opt = train_opt.get('aux_loss') or {}
        self.aux_weights = {
            'load_balance': float(aux_opt.get('load_balance_weight', DEFAULT_AUX_WEIGHTS['load_balance'])),
            'router_z': float(aux_opt.get('router_z_weight', DEFAULT_AUX_WEIGHTS['router_z'])),
        }
        self.input_gradient_penalty = float(train_opt.get('input_gradient_penalty', 0.0))
        if self.input_gradient_penalty < 0:
            raise ValueError(f'train: input_gradient_penalty must be >= 0, got {self.input_gradient_penalty}')
        self.use_amp = bool(train_opt.get('fp16', False)) and self.device.type == 'cuda'
        self.scaler = torch.amp.GradScaler(self.device.type, enabled=self.use_amp)
        self.iter_scheduler = None
        super().init_training_settings()

    def get_optimizer(self, optim_type: str, params: list[dict], lr: float, **kwargs) -> torch.optim.Optimizer:
        """pyiqa's optimiser, each parameter group split in two: the biases and norms get no weight decay."""
        net = self.get_bare_model(self.net)
        names = no_weight_decay(net)
        exempt = {id(p) for name, p in net.named_parameters() if name in names}
        groups = []
        for group in params:
            decayed = [p for p in group['params'] if id(p) not in exempt]
            undecayed = [p for p in group['params'] if id(p) in exempt]
            groups += [{**group, 'params': decayed}] if decayed else []
            groups += [{**group, 'params': undecayed, 'weight_decay': 0.0}] if undecayed else []
        return super().get_optimizer(optim_type, groups, lr, **kwargs)

    def setup_schedulers(self, scheduler_name: str = 'scheduler') -> None:
        """pyiqa's schedulers, plus ``TimmScheduler``: a timm scheduler stepped every iteration.

        Its options are ``timm.scheduler.create_scheduler_v2`` arguments in epochs; the number of
        epochs and of iterations per epoch come from ``train: total_epoch`` and pyiqa's ``total_iter``.
        """
        train_opt = self.opt['train']
        sched_opt = dict(train_opt[scheduler_name])
        if sched_opt.pop('type') != TIMM_SCHEDULER:
            return super().setup_schedulers(scheduler_name)
        if not train_opt.get('total_epoch'):
            raise ValueError(f'scheduler type {TIMM_SCHEDULER} needs train: total_epoch (the schedule is in epochs)')
        total_epoch = int(train_opt['total_epoch'])
        self.iter_scheduler, _ = create_scheduler_v2(
            self.optimizer,
            num_epochs=total_epoch,
            step_on_epochs=False,
            updates_per_epoch=int(train_opt['total_iter']) // total_epoch,
            **sched_opt,
        )
        self.schedulers.append(self.iter_scheduler)  # pyiqa saves and restores its state

    def update_learning_rate(self, current_iter: int, warmup_iter: int = -1) -> None:
        """pyiqa's per-epoch update, skipped for a TimmScheduler (set every iteration instead)."""
        if self.iter_scheduler is None:
            super().update_learning_rate(current_iter, warmup_iter)

    def input_gradient_norm(self, img: torch.Tensor) -> torch.Tensor:
        """The mean over images of ``||d score / d img||^2``, differentiable in the weights.

        Taken on the scaled score under fp16 and unscaled after (PyTorch's AMP recipe for gradient
        penalties), so that small gradients do not underflow.
        """
        (scaled,) = torch.autograd.grad(self.scaler.scale(self.output_score.sum()), img, create_graph=True)
        grad = scaled.float() / self.scaler.get_scale()
        return grad.flatten(1).pow(2).sum(1).mean()

    def optimize_parameters(self, current_iter: int) -> None:
        if self.iter_scheduler is not None:
            self.iter_scheduler.step_update(current_iter - 1)  # timm counts updates from 0
        self.optimizer.zero_grad()
        loss_dict = OrderedDict()
        penalised = self.input_gradient_penalty > 0
        img = self.img_input.detach().requires_grad_() if penalised else self.img_input
        # the fused attention kernels have no second derivative: the penalty needs the math one
        kernels = sdpa_kernel(SDPBackend.MATH) if penalised else nullcontext()
        with torch.autocast(self.device.type, enabled=self.use_amp), kernels:
            self.output_score, aux = self.net(img, return_aux=True)
            self.output_score = self.output_score.float()
            if self.cri_mos:
                loss_dict['l_mos'] = self.cri_mos(self.output_score, self.gt_mos)
            if self.cri_metric:
                loss_dict['l_metric'] = self.cri_metric(self.output_score, self.gt_mos)
            for name, weight in self.aux_weights.items():
                loss_dict[f'l_{name}'] = weight * aux[name].float()
        if penalised:
            loss_dict['l_input_gradient'] = self.input_gradient_penalty * self.input_gradient_norm(img)
        self.scaler.scale(sum(loss_dict.values())).backward()
        grad_clip = self.opt['train'].get('grad_clip')
        if grad_clip:
            self.scaler.unscale_(self.optimizer)
            clip_grad_norm_(self.net.parameters(), grad_clip)
        self.scaler.step(self.optimizer)
        self.scaler.update()

        self.log_dict = self.reduce_loss_dict(loss_dict)
        for expert, share in enumerate(aux['expert_share'].tolist()):  # this batch's routing, not a loss
            self.log_dict[f'moe_share/expert_{expert}'] = share
        pred_score = self.output_score.squeeze(1).detach().cpu().numpy()
        gt_mos = self.gt_mos.squeeze(1).detach().cpu().numpy()
        for name, opt_ in self.opt['val']['metrics'].items():
            self.log_dict[f'train_metrics/{name}'] = calculate_metric([pred_score, gt_mos], opt_)
