"""pyiqa training model for Life-IQA: pyiqa's GeneralIQAModel plus the MoE auxiliary losses.

pyiqa's ``GeneralIQAModel`` feeds the network output straight into its losses, so the
mixture-of-experts losses of Life-IQA (load balance, router z-loss) need this subclass. Select
it with ``model_type: LifeIQAModel``; the YAML ``train:`` section sets::

    train:
      aux_loss:
        load_balance_weight: 0.01   # Switch Transformer load balance
        router_z_weight: 0.001      # ST-MoE router z-loss
      grad_clip: 5.0                # max gradient norm (optional)
      fp16: true                    # autocast + gradient scaling, on CUDA only (optional)

Validation is pyiqa's own, with the network in eval mode (deterministic crops, averaged).
"""

from __future__ import annotations

from collections import OrderedDict

import torch
from pyiqa.metrics import calculate_metric
from pyiqa.models.general_iqa_model import GeneralIQAModel
from pyiqa.utils.registry import MODEL_REGISTRY
from torch.nn.parallel import DistributedDataParallel
from torch.nn.utils import clip_grad_norm_

DEFAULT_AUX_WEIGHTS = {'load_balance': 0.01, 'router_z': 0.001}


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

    def init_training_settings(self) -> None:
        train_opt = self.opt['train']
        aux_opt = train_opt.get('aux_loss') or {}
        self.aux_weights = {
            'load_balance': float(aux_opt.get('load_balance_weight', DEFAULT_AUX_WEIGHTS['load_balance'])),
            'router_z': float(aux_opt.get('router_z_weight', DEFAULT_AUX_WEIGHTS['router_z'])),
        }
        self.use_amp = bool(train_opt.get('fp16', False)) and self.device.type == 'cuda'
        self.scaler = torch.amp.GradScaler(self.device.type, enabled=self.use_amp)
        super().init_training_settings()

    def optimize_parameters(self, current_iter: int) -> None:
        self.optimizer.zero_grad()
        loss_dict = OrderedDict()
        with torch.autocast(self.device.type, enabled=self.use_amp):
            self.output_score, aux = self.net(self.img_input, return_aux=True)
            self.output_score = self.output_score.float()
            if self.cri_mos:
                loss_dict['l_mos'] = self.cri_mos(self.output_score, self.gt_mos)
            if self.cri_metric:
                loss_dict['l_metric'] = self.cri_metric(self.output_score, self.gt_mos)
            for name, weight in self.aux_weights.items():
                loss_dict[f'l_{name}'] = weight * aux[name].float()
        self.scaler.scale(sum(loss_dict.values())).backward()
        grad_clip = self.opt['train'].get('grad_clip')
        if grad_clip:
            self.scaler.unscale_(self.optimizer)
            clip_grad_norm_(self.net.parameters(), grad_clip)
        self.scaler.step(self.optimizer)
        self.scaler.update()

        self.log_dict = self.reduce_loss_dict(loss_dict)
        pred_score = self.output_score.squeeze(1).detach().cpu().numpy()
        gt_mos = self.gt_mos.squeeze(1).detach().cpu().numpy()
        for name, opt_ in self.opt['val']['metrics'].items():
            self.log_dict[f'train_metrics/{name}'] = calculate_metric([pred_score, gt_mos], opt_)
