"""`ferrograd.autograd.functional`: jacobian, hessian, vjp, jvp, hvp, vhp."""
