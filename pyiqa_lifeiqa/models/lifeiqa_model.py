"""pyiqa training model for Life-IQA: pyiqa's GeneralIQAModel plus the MoE auxiliary losses.

pyiqa's ``GeneralIQAModel`` feeds the network output straight into its losses, so the
mixture-of-experts losses of Life-IQA (load balance, router z-loss) need this subclass. Select
it with ``model_type: LifeIQAModel``; set the loss weights in the YAML ``train:`` section::

    train:
      aux_loss:
        load_balance_weight: 0.01   # Switch Transformer load balance
        router_z_weight: 0.001      # ST-MoE router z-loss

Validation is pyiqa's own, with the network in eval mode (deterministic crops, averaged).
"""

from __future__ import annotations

from collections import OrderedDict

from pyiqa.metrics import calculate_metric
from pyiqa.models.general_iqa_model import GeneralIQAModel
from pyiqa.utils.registry import MODEL_REGISTRY
from torch.nn.utils import clip_grad_norm_

DEFAULT_AUX_WEIGHTS = {'load_balance': 0.01, 'router_z': 0.001}


@MODEL_REGISTRY.register()
class LifeIQAModel(GeneralIQAModel):
    """GeneralIQAModel whose loss adds ``w_lb * L_load_balance + w_z * L_router_z``."""

    def init_training_settings(self) -> None:
        aux_opt = self.opt['train'].get('aux_loss', {}) or {}
        self.aux_weights = {
            'load_balance': float(aux_opt.get('load_balance_weight', DEFAULT_AUX_WEIGHTS['load_balance'])),
            'router_z': float(aux_opt.get('router_z_weight', DEFAULT_AUX_WEIGHTS['router_z'])),
        }
        super().init_training_settings()

    def optimize_parameters(self, current_iter: int) -> None:
        self.optimizer.zero_grad()
        self.output_score, aux = self.net(self.img_input, return_aux=True)

        loss_dict = OrderedDict()
        l_total = 0
        if self.cri_mos:
            loss_dict['l_mos'] = self.cri_mos(self.output_score, self.gt_mos)
            l_total = l_total + loss_dict['l_mos']
        if self.cri_metric:
            loss_dict['l_metric'] = self.cri_metric(self.output_score, self.gt_mos)
            l_total = l_total + loss_dict['l_metric']
        for name, weight in self.aux_weights.items():
            loss_dict[f'l_{name}'] = aux[name]
            l_total = l_total + weight * aux[name]
        l_total.backward()
        grad_clip = self.opt['train'].get('grad_clip')
        if grad_clip:
            clip_grad_norm_(self.net.parameters(), grad_clip)
        self.optimizer.step()

        self.log_dict = self.reduce_loss_dict(loss_dict)
        pred_score = self.output_score.squeeze(1).detach().cpu().numpy()
        gt_mos = self.gt_mos.squeeze(1).detach().cpu().numpy()
        for name, opt_ in self.opt['val']['metrics'].items():
            self.log_dict[f'train_metrics/{name}'] = calculate_metric([pred_score, gt_mos], opt_)
