"""`ferrograd.autograd.forward_ad`: dual_level, make_dual, unpack_dual."""
