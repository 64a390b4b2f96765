"""Issue 11, session 22: do matmul or LSTM results here depend on the memory alignment of their inputs?

    python docs/issue11/blas_alignment.py
    MKL_CBWR=COMPATIBLE python docs/issue11/blas_alignment.py

Each product is recomputed on copies of its inputs placed at 15 misaligned float offsets; prints how many gave other
bits than the aligned original."""

import os

import torch


def shifted(t: torch.Tensor, offset: int) -> torch.Tensor:
    buf = torch.empty(t.numel() + offset)
    out = buf[offset:].view_as(t)
    out.copy_(t)
    return out


def main() -> None:
    torch.manual_seed(0)
    print(f"mkl {torch.backends.mkl.is_available()}, threads {torch.get_num_threads()}, MKL_CBWR {os.environ.get('MKL_CBWR')}")
    for m, k, n in [(4096, 288, 1024), (4096, 256, 1024), (64, 288, 1024), (37, 130, 77)]:
        a, b = torch.randn(m, k), torch.randn(k, n)
        ref = a @ b
        diffs = sum(not torch.equal(shifted(a, off) @ shifted(b, off), ref) for off in range(1, 16))
        print(f"matmul {m}x{k} @ {k}x{n}: {diffs}/15 offsets give other bits")
    lstm = torch.nn.LSTM(288, 256, batch_first=True)
    x = torch.randn(64, 64, 288)
    ref, _ = lstm(x)
    diffs = sum(not torch.equal(lstm(shifted(x, off))[0], ref) for off in range(1, 16))
    print(f"LSTM 64x64x288 -> 256: {diffs}/15 offsets give other bits")


if __name__ == "__main__":
    main()
