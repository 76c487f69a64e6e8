"""Optional data-parallel training: `torchrun --nproc_per_node N` (DDP, gloo on CPU).

Outside torchrun every helper here is a no-op, so the same training code runs on one
process or many.
"""

from __future__ import annotations

import os


def world() -> tuple[int, int]:
    """(rank, world_size) of this process; (0, 1) outside torchrun."""
    return int(os.environ.get("RANK", 0)), int(os.environ.get("WORLD_SIZE", 1))


def is_main() -> bool:
    return world()[0] == 0


def setup() -> None:
    """Initialise the gloo process group when launched by torchrun."""
    rank, size = world()
    if size > 1:
        import torch
        import torch.distributed as dist

        if not dist.is_initialized():
            dist.init_process_group("gloo")
        # Share the cores between processes instead of oversubscribing them.
        torch.set_num_threads(max(1, (os.cpu_count() or size) // size))


def wrap(model):
    """Wrap a module in DistributedDataParallel when running distributed."""
    if world()[1] > 1:
        from torch.nn.parallel import DistributedDataParallel

        return DistributedDataParallel(model, find_unused_parameters=False)
    return model


def freeze_unused(model) -> None:
    """Freeze BERT's pooler: mean pooling never uses it, and DDP requires every trainable
    parameter to receive a gradient."""
    pooler = getattr(model, "pooler", None)
    if pooler is not None:
        for p in pooler.parameters():
            p.requires_grad_(False)


def shard(indices: list[int]) -> list[int]:
    """This rank's share of a (shuffled, identical on every rank) index list, equal lengths."""
    rank, size = world()
    if size == 1:
        return indices
    n = len(indices) // size * size
    return indices[rank:n:size]


def broadcast_flag(flag: bool) -> bool:
    """Rank 0's decision (e.g. early stopping), the same on every rank."""
    if world()[1] == 1:
        return flag
    import torch
    import torch.distributed as dist

    t = torch.tensor([1 if flag else 0])
    dist.broadcast(t, src=0)
    return bool(t.item())


def barrier() -> None:
    if world()[1] > 1:
        import torch.distributed as dist

        dist.barrier()


def teardown() -> None:
    if world()[1] > 1:
        import torch.distributed as dist

        if dist.is_initialized():
            dist.destroy_process_group()
