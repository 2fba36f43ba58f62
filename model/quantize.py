"""int8 dynamic quantization of a loaded model, for smaller weights on CPU (NEXTWORD_QUANTIZE).

    from model.quantize import quantize_int8, serialized_size_bytes
    loaded = load_latest(models_dir)
    loaded = dataclasses.replace(loaded, model=quantize_int8(loaded.model))

Dynamic quantization (`torch.ao.quantization.quantize_dynamic`) stores the weights of the
recurrent layer and of every `nn.Linear` as int8 and quantizes each activation on the fly, with
a range measured on that very input. Nothing is calibrated and nothing new is saved: the float
safetensors weights are loaded as always and quantized in memory at load time, so no pickle is
ever read. Figures (latency, size, accuracy by gap, perplexity): docs/benchmarks.md, "Inference
on CPU", measured by bench/inference_speed.py.

What is quantized, by cell:
- GRU, LSTM: the recurrent layer (torch's DynamicQuantizedGRU/LSTM, per-tensor int8 weights);
- RNN: left float32 — torch has no dynamically quantized `nn.RNN` (only `nn.RNNCell`), and
  `quantize_dynamic` silently skips it; the output layer, most of the cost, is still quantized.
- every `nn.Linear`: the full-softmax output layer, or the adaptive softmax's head and each
  tail projection (per-output-channel int8 weights: as fast as per-tensor here, and closer to
  float). The embedding stays float32 (a lookup, no arithmetic to save).

Three consequences of quantizing activations on the fly, each measured in tests/test_quantize.py
or the benchmark:
- log-probabilities move a little (a few hundredths on average, a few tenths at worst on the
  real GRU); the top-1 word almost always stays.
- The range is taken over the whole input tensor, so a prompt read in one call and the same
  prompt read in two calls with the state carried give slightly different states (exact in
  float32), and so do a prompt alone and in a padded batch.
- `torch.ao.quantization` is deprecated (torch says it moves to torchao, whose `quantize_`
  covers linear layers, not RNN modules); it still works in torch 2.13. Its deprecation
  warnings are silenced here so that loading a model in a worker does not print them each time.
"""
from __future__ import annotations

import io
import warnings

import torch
from torch import nn
from torch.ao.nn.quantized import dynamic as nnqd
from torch.ao.quantization import default_dynamic_qconfig, per_channel_dynamic_qconfig, quantize_dynamic
from torch.ao.quantization.quantization_mappings import get_default_dynamic_quant_module_mappings

from model.rnn_lm import RNNLanguageModel

# Layer type → how its weights are quantized. nn.RNN is absent on purpose (see the docstring).
QCONFIGS = {
    nn.GRU: default_dynamic_qconfig,  # dynamic quantized RNN modules take per-tensor weights only
    nn.LSTM: default_dynamic_qconfig,
    nn.Linear: per_channel_dynamic_qconfig,
}


class Int8Linear(nnqd.Linear):
    """torch's dynamically quantized Linear, also taking a single vector (H,) as nn.Linear does.

    The int8 kernel needs at least 2 dimensions, and the predictor projects one state vector
    (`RNNLanguageModel.log_probs(h[-1, 0])`) through a full-softmax output layer.
    """

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return super().forward(x.unsqueeze(0)).squeeze(0) if x.dim() == 1 else super().forward(x)


def quantize_int8(model: RNNLanguageModel) -> RNNLanguageModel:
    """A copy of `model`, in eval mode, with int8 (qint8) weights in its recurrent layer (GRU,
    LSTM; an RNN stays float32) and in every nn.Linear; `model` itself is not changed."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=r"torch\.ao\.quantization is deprecated")
        warnings.filterwarnings("ignore", message=r"torch\.quantize_per_tensor")
        mapping = {**get_default_dynamic_quant_module_mappings(), nn.Linear: Int8Linear}
        quantized = quantize_dynamic(model, QCONFIGS, dtype=torch.qint8, mapping=mapping, inplace=False)  # a deep copy
    return quantized.eval()


def serialized_size_bytes(model: nn.Module) -> int:
    """Bytes of `model.state_dict()` written by `torch.save` into memory.

    torch.save is the one writer that knows how to store quantized modules: their state dicts
    hold torch's packed int8 weights (with scales) as opaque objects that safetensors cannot
    take. Measuring the float model the same way compares like with like (the float safetensors
    file is within a few kB of it). Nothing is written to disk and nothing here is ever loaded.
    """
    buffer = io.BytesIO()
    torch.save(model.state_dict(), buffer)
    return buffer.getbuffer().nbytes
