"""Experiment: memory per device under data parallelism and ZeRO 1-3, formula beside measurement.

Two parts. The ZeRO paper's Figure 1 by formula (7.5B parameters, 64
devices, mixed-precision Adam: 16 bytes per parameter). Then one Adam step of
the digits MLP (64-256-256-10, 85,002 parameters) on 4 simulated devices at
each stage: the model state the busiest device keeps, counted by its device
ledger in the float64 the run uses (8 + 8 + 16 bytes per parameter), beside
the same formula with those bytes; and the bytes each device sent in the
step's collectives beside 2(N-1)/N x P x 8 (stage 3: 3(N-1)/N, 1.5x).
"""

from __future__ import annotations

from typing import Any

from dsai.models import load_digits
from dsai.parallel.device import start_devices
from dsai.parallel.memory import ZERO_STAGES, zero_comm_bytes, zero_total
from dsai.parallel.report import Column, Progress, Section
from dsai.parallel.zero import ZeroRun, run_zero

__all__ = ["PAPER_PARAMETERS", "PAPER_DEVICES", "SIZES", "DEVICES", "BATCH", "measure", "run"]

PAPER_PARAMETERS, PAPER_DEVICES = 7.5e9, 64
SIZES, DEVICES, BATCH = [64, 256, 256, 10], 4, 256


def measure(stage: int, devices: int = DEVICES, seed: int = 0) -> ZeroRun:
    digits = load_digits()
    start_devices(devices, seed=seed)
    return run_zero(SIZES, digits.x_train[:BATCH], digits.y_train[:BATCH], devices=devices, stage=stage,
                    seed=seed)


def run(progress: Progress) -> Section:
    rows: list[dict[str, Any]] = []
    for stage in ZERO_STAGES:
        rows.append({"model": "ZeRO paper, Fig. 1", "stage": stage, "devices": PAPER_DEVICES,
                     "parameters": int(PAPER_PARAMETERS), "bytes_per_parameter": "2+2+12",
                     "bytes_per_device_formula": zero_total(PAPER_PARAMETERS, PAPER_DEVICES, stage),
                     "bytes_per_device_measured": None, "comm_bytes_per_device": None,
                     "theory_comm_bytes": zero_comm_bytes(PAPER_PARAMETERS, PAPER_DEVICES, stage, 2)})
    for stage in ZERO_STAGES:
        r = measure(stage)
        measured = sum(r.bytes_per_device.values())
        rows.append({"model": "digits MLP, simulated", "stage": stage, "devices": r.devices,
                     "parameters": r.parameters, "bytes_per_parameter": "8+8+16",
                     "bytes_per_device_formula": zero_total(r.parameters, r.devices, stage, r.precision),
                     "bytes_per_device_measured": measured,
                     "comm_bytes_per_device": r.comm_bytes_per_device,
                     "theory_comm_bytes": zero_comm_bytes(r.parameters, r.devices, stage, 8)})
        progress(f"[memory] ZeRO stage {stage}: {measured:,} bytes per device, sent "
                 f"{r.comm_bytes_per_device:,} per step")
    return Section("memory", "Model state per device: data parallelism (stage 0) and ZeRO 1-3", rows,
                   [Column("model", "model"), Column("stage", "stage"), Column("devices", "N"),
                    Column("parameters", "P", "{:,}"), Column("bytes_per_parameter", "bytes/param"),
                    Column("bytes_per_device_formula", "formula bytes/device", "{:,.0f}"),
                    Column("bytes_per_device_measured", "measured", "{:,}"),
                    Column("comm_bytes_per_device", "sent/device/step", "{:,}"),
                    Column("theory_comm_bytes", "theory", "{:,.0f}")],
                   ["formula: 16P, 4P + 12P/N, 2P + 14P/N, 16P/N with mixed-precision Adam; the "
                    "simulated run keeps float64, so 32P, 16P + 16P/N, 8P + 24P/N, 32P/N",
                    "measured: the busiest device's ledger (its shard is one element over P/N when N does "
                    "not divide P)"])
