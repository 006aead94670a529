//! `torch.linalg`'s factorizations and the solvers built on them (issue 15).
