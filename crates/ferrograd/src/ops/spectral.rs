//! `torch.linalg`'s spectral decompositions and what is built on them (issue 15).
