//! Factorization kernels on f64 buffers (issue 15).
